"""The interpreter console, ``GET /interpret/{room}?token=`` (issue 17 §8, docs/pages.md).

A door like any other: the link's token is verified for this room, then the one gate
(:func:`rooms.gate.decide_console`) says whether its holder may open the console here now (the
``interpret`` grant, not banned, the room not ended, a forum or a meeting). A refusal is the
page with a translated sentence and a 403 (410 for an ended room), never a raw code
(:func:`web.room_pages.interpret` renders it). What the
interpreter then does (join, publish into a channel, hand over) is asked again by each event.
"""

from __future__ import annotations

from aiohttp import web

from rooms import gate
from rooms.errors import NoSuchRoom, NotAllowed, StoreUnavailable
from rooms.room import Room
from rooms.token import TokenError, verify
from web.keys import BACKEND_KEY, SETTINGS_KEY
from web.page_access import Visitor, refused

ROLE = "interpreter"
TOKEN_MAX = 4_096


async def interpreter(request: web.Request, room: Room) -> Visitor:
    """The console's visitor: the verified interpreter, or the code that says why not."""
    text = request.query.get("token", "").strip()[:TOKEN_MAX]
    if not text:
        return refused("token_missing")
    settings = request.app[SETTINGS_KEY]
    try:
        access = verify(settings.secret_value(), text, room=room.id,
                        leeway_s=settings.token_leeway_s)
        facts = await request.app[BACKEND_KEY].service.facts(access, room.id)
        gate.decide_console(access, facts)
    except (TokenError, NotAllowed) as exc:
        return refused(exc.code)
    except NoSuchRoom:
        raise web.HTTPNotFound() from None
    except StoreUnavailable:
        raise web.HTTPServiceUnavailable(text="the room store is unavailable") from None
    return Visitor(text, access.identity, ROLE, moderates=False, publishes=False)

