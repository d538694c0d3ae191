"""Running a node: logging, the start-up banner, the node id check, and a graceful drain.

The node runs under its own ``AppRunner`` rather than ``aiohttp.web.run_app``, whose signal
handling closed the listener at the first SIGTERM (so ``/readyz`` was refused, never 503, and
clients were cut off with no word: issue 13). Here the first SIGTERM or SIGINT starts the drain
(web/drain.py): the node keeps serving, ``/readyz`` says 503, clients are told where to go, and
when they have left (or ``cluster.drain_s`` has passed) the shutdown hooks and cleanup contexts
run and the process exits with status 0. A second signal stops at once. A node whose id another
live node holds stops before it listens, with one line and status 2 (like a configuration
error).
"""

from __future__ import annotations

import asyncio
import io
import logging
import signal
import sys
from typing import TextIO

from aiohttp import web

from config import Settings, logs
from rooms.errors import NodeIdTaken
from rooms.token import Grant, mint
from streaming.errors import MediaPortUnavailable
from web import heap
from web.app import create_app
from web.keys import DRAIN_KEY
from web.language import NATIVE_NAMES
from web.openapi_doc import OpenApiMissing

EXIT_REFUSED = 2  # as a configuration error (web/cli.py)
SHUTDOWN_TIMEOUT_S = 10.0  # after the drain: what is left is closed within this
CLEANUP_BOUND_S = 30.0  # the whole clean-up (every component's close); past it the node exits
EXIT_STUCK = 1
DEMO_TOKEN_TTL_S = 12 * 3600
DEMO_WARNING = (
    "DEMO MODE: every visitor is handed staff, exhibitor and delegate links; never run it "
    "for real visitors (start with --no-demo and PAVILION_SECRET)"
)
DEMO_HOST_GRANTS = (
    Grant.JOIN,
    Grant.PUBLISH,
    Grant.SUBSCRIBE,
    Grant.CHAT,
    Grant.MODERATE,
    Grant.CREATE,
)


def banner(settings: Settings) -> str:
    """What a person needs to start using the node, printed once it listens."""
    base = settings.base_url
    lines = [
        f"Pavilion is serving on {base}/ (node {settings.node_id}, "
        f"state: {'Redis ' + settings.redis_url if settings.redis_url else 'in memory'})"
    ]
    lines += [f"  {NATIVE_NAMES[lang]:>8}: {base}/?lang={lang}" for lang in NATIVE_NAMES]
    if settings.demo:
        token = mint(
            settings.secret_value(),
            identity="demo-host",
            name="Demo host",
            room="*",
            grants=DEMO_HOST_GRANTS,
            ttl_s=DEMO_TOKEN_TTL_S,
        )
        lines += [
            "Demo mode: the expo is seeded and this host token (valid 12 h, every room) is ready:",
            f"  {token}",
            f"  WHIP for OBS: {base}/whip/<room>  with  Bearer token above",
        ]
    return "\n".join(lines)


def serve(settings: Settings, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    logs.configure(settings, err)  # JSON or text, every line scrubbed (config/logs.py)
    if settings.demo:  # whatever the log level: one line a person starting it will see
        print(f"pavilion: warning: {DEMO_WARNING}", file=err, flush=True)
    try:
        app = create_app(settings)
    except OpenApiMissing as exc:  # docs/ not shipped: one clear line, not a 500 later
        print(f"pavilion: {exc}", file=err, flush=True)
        return EXIT_REFUSED
    app.on_startup.append(heap.settle)  # last: after the backend, media plane and hub opened
    try:
        return asyncio.run(_run(app, settings, banner(settings), out))
    except (NodeIdTaken, MediaPortUnavailable) as exc:
        print(f"pavilion: {exc}", file=err, flush=True)
        return EXIT_REFUSED


async def _run(app: web.Application, settings: Settings, text: str, out: TextIO) -> int:
    """Start, print the banner, serve until drained (or a second signal), clean up."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None,
                           shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    try:
        await runner.setup()  # the cleanup contexts: the node id is claimed here
        await web.TCPSite(runner, settings.host, settings.port).start()
        print(text, file=out, flush=True)
        await _until_drained(app)
    finally:
        stuck = await bounded_cleanup(runner, CLEANUP_BOUND_S)
    if stuck:  # a close that never returns must not keep a SIGTERMed node alive forever
        logging.getLogger("pavilion").error("clean-up did not finish in %.0f s; exiting. "
                                            "Tasks still running:\n%s", CLEANUP_BOUND_S, stuck)
        return EXIT_STUCK
    return 0


async def bounded_cleanup(runner: web.BaseRunner, bound_s: float) -> str:
    """Run ``runner.cleanup()`` for at most ``bound_s``; ``""`` when it finished, else the
    stacks of every task still running (what hung), after cancelling the clean-up."""
    task = asyncio.ensure_future(runner.cleanup())
    done, _ = await asyncio.wait({task}, timeout=bound_s)
    if task in done:
        task.result()
        return ""
    stacks = io.StringIO()
    for pending in asyncio.all_tasks():
        if pending is not asyncio.current_task():
            print(f"--- {pending.get_name()}", file=stacks)
            pending.print_stack(limit=16, file=stacks)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return stacks.getvalue()


async def _until_drained(app: web.Application) -> None:
    """Wait for the drain to end (begun by a signal or the admin API) or a second signal."""
    loop, drain, now = asyncio.get_running_loop(), app[DRAIN_KEY], asyncio.Event()
    started: list[asyncio.Task[None]] = []

    def on_signal(sig: signal.Signals) -> None:
        if started:
            logging.getLogger("pavilion").warning("%s again: stopping now", sig.name)
            now.set()
            return
        logging.getLogger("pavilion").info("%s: draining (send it again to stop now)", sig.name)
        task = loop.create_task(drain.begin())
        task.add_done_callback(failed)
        started.append(task)

    def failed(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:  # a drain that cannot start
            logging.getLogger("pavilion").error("drain failed, stopping now: %r",
                                                task.exception())
            now.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    waits = {loop.create_task(drain.done.wait()), loop.create_task(now.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        for task in (*waits, *started):
            task.cancel()
        await asyncio.gather(*waits, *started, return_exceptions=True)
