"""The real doors an expo day goes through, as JSON over HTTP: the admin API (API key), the
page API and the meetings API (bearer tokens), WHEP."""

from __future__ import annotations

import math
import time
from typing import Any

import aiohttp

from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET, RunningApp

API_KEY = "expo-day-admin-key-0123456789-0123456789"


def person(identity: str, *, exhibitor: bool = False) -> str:
    """An organiser-issued token for the meetings API (``exhibit`` or ``delegate``)."""
    grant = Grant.EXHIBIT if exhibitor else Grant.DELEGATE
    return mint(TEST_SECRET, identity=identity, room="*", grants=[Grant.JOIN, grant],
                ttl_s=3600, name=identity.title())


async def call(node: RunningApp, method: str, path: str, body: Any = None, *,
               bearer: str = API_KEY, status: int | None = None) -> Any:
    """One JSON call; any 2xx unless ``status`` names the one expected."""
    async with aiohttp.ClientSession() as http, http.request(
            method, node.url + path, json=body,
            headers={"Authorization": f"Bearer {bearer}"}) as response:
        data = await response.json()
        ok = response.status == status if status else response.status < 300
        assert ok, (method, path, response.status, data)
        return data


async def whep(node: RunningApp, room: str, offer: str, bearer: str) -> str:
    async with aiohttp.ClientSession() as http, http.post(
            f"{node.url}/whep/{room}", data=offer, allow_redirects=False,
            headers={"Content-Type": "application/sdp",
                     "Authorization": f"Bearer {bearer}"}) as response:
        text = await response.text()
        assert response.status == 201, text
        return text


def soon_iso(later_min: int = 0) -> str:
    """The start of a slot two to three minutes away (its join window is already open), or
    ``later_min`` minutes after that."""
    start = (math.floor(time.time() / 60) + 3 + later_min) * 60
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
