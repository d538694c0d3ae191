"""Reading a JSON object from a request body, bounded, for the JSON APIs (admin, meetings).

A body over ``MAX_BODY`` bytes is refused before it is read in full; anything but a JSON object
is a client error with a stable code. Both become ``InvalidInput``, which each API maps to 400.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from rooms.errors import InvalidInput

MAX_BODY = 64 * 1024


async def json_object(request: web.Request, max_bytes: int = MAX_BODY) -> dict[str, Any]:
    """The JSON object in the body, at most ``max_bytes``; ``InvalidInput`` otherwise."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise InvalidInput("body_too_large", f"request body over {max_bytes} bytes")
    raw = await request.content.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise InvalidInput("body_too_large", f"request body over {max_bytes} bytes")
    try:
        data = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("bad_json", f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("bad_json", "body must be a JSON object")
    return data
