"""Running a node: logging, the start-up banner, and graceful shutdown on SIGTERM/SIGINT.

``aiohttp.web.run_app`` turns both signals into a graceful exit: it stops accepting, runs the
shutdown hooks (readiness flips to 503, sessions are closed) and the cleanup contexts (media
plane, backend), then returns, and the process exits with status 0.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from aiohttp import web

from config import Settings
from rooms.token import Grant, mint
from web import heap
from web.app import create_app
from web.language import NATIVE_NAMES

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
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.demo:  # whatever the log level: one line a person starting it will see
        print(f"pavilion: warning: {DEMO_WARNING}", file=err, flush=True)
    app = create_app(settings)
    app.on_startup.append(heap.settle)  # last: after the backend, media plane and hub opened
    text = banner(settings)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=lambda _: print(text, file=out, flush=True),
        shutdown_timeout=10,
        handle_signals=True,
        access_log=None,
    )
    return 0
