"""Typed application state (``aiohttp.web.AppKey``): the one place that names what the app holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from config import Settings

if TYPE_CHECKING:
    from rooms.factory import Backend
    from signaling.hub import Hub
    from web.drain import Drain
    from web.metrics import Metrics
    from web.templates import Renderer

SETTINGS_KEY = web.AppKey("settings", Settings)
BACKEND_KEY: web.AppKey[Backend] = web.AppKey("backend")
RENDERER_KEY: web.AppKey[Renderer] = web.AppKey("renderer")
METRICS_KEY: web.AppKey[Metrics] = web.AppKey("metrics")
SHUTTING_DOWN_KEY: web.AppKey[list[bool]] = web.AppKey("shutting_down")
HUB_KEY: web.AppKey[Hub] = web.AppKey("rtc_hub")
DRAIN_KEY: web.AppKey[Drain] = web.AppKey("drain")
