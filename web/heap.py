"""The garbage collector set for a server whose tail latency matters (issue 5 §7).

CPython's full collection walks every tracked object. A started node holds ~90,000 objects that
live as long as the process (modules, aiortc, PyAV, jinja2 templates, catalogs, the demo expo):
walking them alone took ~55 ms here, and with 1,000 clients connected a full collection took
60–250 ms (a ``gc.callbacks`` probe during bench/chat_fanout.py), a pause every chat message in
flight waited through. :func:`settle`, run once the node has started, collects once and then
moves what survived to the permanent generation (``gc.freeze``), so later collections only walk
what clients created. Collections still run as CPython decides, so nothing leaks.
"""

from __future__ import annotations

import gc
import logging

from aiohttp import web

log = logging.getLogger(__name__)


async def settle(app: web.Application) -> None:
    """Freeze what start-up left alive; later collections skip it."""
    gc.collect()
    gc.freeze()
    log.debug("garbage collector: %d start-up objects frozen", gc.get_freeze_count())
