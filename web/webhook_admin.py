"""Admin routes of the webhooks (issue 18 §1; docs/admin-api.md "Webhooks"), key-gated by the
admin API's guard (web/admin_api.py), refusals by its one error table.

- ``GET /api/admin/webhooks``: every target (key, URL, wanted events; never its secret) with its
  ``pending``, ``delivered`` and ``failed`` counts.
- ``GET /api/admin/webhooks/dead``: the dead letters, oldest first.
- ``POST /api/admin/webhooks/dead/{id}/replay`` / ``POST /api/admin/webhooks/dead/replay``:
  queue one / every dead letter again (same event id and body); ``DELETE
  /api/admin/webhooks/dead/{id}``: forget one.
"""

from __future__ import annotations

from aiohttp import web

from rooms.errors import InvalidInput, NoSuchRoom
from rooms.webhooks.queue import WebhookQueue, target_key
from web.admin_api import PREFIX
from web.http_api import reply
from web.keys import BACKEND_KEY, SETTINGS_KEY

HOOKS = PREFIX + "/webhooks"
DEAD_LISTED = 1_000  # the most one listing parses (each letter is a JSON document)
DEAD_PAGE = 100


def _queue(request: web.Request) -> WebhookQueue:
    return request.app[BACKEND_KEY].webhooks


async def overview(request: web.Request) -> web.Response:
    targets = []
    for target in request.app[SETTINGS_KEY].webhooks:
        key = target_key(target.url)
        stats = await _queue(request).stats(key)
        targets.append({"key": key, "url": target.url, "events": target.events,
                        "pending": stats.pending, "delivered": stats.delivered,
                        "failed": stats.failed})
    return reply({"targets": targets})


async def dead(request: web.Request) -> web.Response:
    raw = request.query.get("limit", str(DEAD_PAGE))
    if not raw.isdigit() or not 1 <= int(raw) <= DEAD_LISTED:
        raise InvalidInput("bad_limit", f"limit must be an integer in 1..{DEAD_LISTED}")
    letters = await _queue(request).dead(int(raw))
    return reply({"dead": [letter.to_dict() for letter in letters]})


def _known(request: web.Request) -> set[str]:
    return {target_key(t.url) for t in request.app[SETTINGS_KEY].webhooks}


async def replay_one(request: web.Request) -> web.Response:
    dead_id = request.match_info["dead_id"]
    if dead_id.rpartition(".")[2] not in _known(request):
        raise NoSuchRoom(dead_id, code="no_such_dead_letter", what="dead letter")
    if not await _queue(request).revive(dead_id):
        raise NoSuchRoom(dead_id, code="no_such_dead_letter", what="dead letter")
    return reply({"replayed": [dead_id]}, status=202)


async def replay_all(request: web.Request) -> web.Response:
    queue, known = _queue(request), _known(request)
    replayed = [dead_id for dead_id in await queue.dead_ids()
                if dead_id.rpartition(".")[2] in known and await queue.revive(dead_id)]
    return reply({"replayed": replayed}, status=202)


async def delete(request: web.Request) -> web.Response:
    dead_id = request.match_info["dead_id"]
    if not await _queue(request).drop(dead_id):
        raise NoSuchRoom(dead_id, code="no_such_dead_letter", what="dead letter")
    return reply({"id": dead_id, "deleted": True})


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get(HOOKS, overview, name="admin-webhooks")
    router.add_get(HOOKS + "/dead", dead)
    router.add_post(HOOKS + "/dead/replay", replay_all)
    router.add_post(HOOKS + "/dead/{dead_id}/replay", replay_one)
    router.add_delete(HOOKS + "/dead/{dead_id}", delete)
