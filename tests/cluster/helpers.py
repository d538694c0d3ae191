"""Reading a cluster from outside, as an operator does: the admin API's node list."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.fixtures.pavilion import TEST_SECRET

ADMIN = {"Authorization": f"Bearer {TEST_SECRET}"}  # demo mode: the secret is the admin key
FAST = {"report_interval_s": 0.3}  # reports live 0.9 s: a dead node drops out in about 1 s


async def nodes(url: str) -> list[dict[str, Any]]:
    """``GET /api/admin/nodes`` on the node at ``url``."""
    async with aiohttp.ClientSession() as http, http.get(f"{url}/api/admin/nodes",
                                                         headers=ADMIN) as response:
        assert response.status == 200, await response.text()
        found: list[dict[str, Any]] = await response.json()
        return found


async def wait_nodes(url: str, check: Callable[[list[dict[str, Any]]], bool],
                     within: float = 15) -> list[dict[str, Any]]:
    """Poll the node list until ``check`` holds (only a failure waits ``within``)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await nodes(url)
        if check(found):
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"node list never matched: {found}")
        await asyncio.sleep(0.1)


def ids(found: list[dict[str, Any]]) -> list[str]:
    return [n["id"] for n in found]
