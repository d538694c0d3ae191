"""The media plane's HTTP side (WHIP/WHEP routes and the MediaPlane lifecycle).

Owned by the media-plane work (issue 3); until it lands, no media routes are installed.
"""

from __future__ import annotations

from aiohttp import web

from config import Settings


def install(app: web.Application, settings: Settings) -> None:
    """Add the media routes and the MediaPlane's cleanup context to ``app``."""
