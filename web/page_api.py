"""The small JSON API the room pages call besides Socket.IO (docs/pages.md, "Page API").

What the real-time protocol does not (yet) carry, with the same access tokens (``Authorization:
Bearer``) and the error shape of every HTTP API (:mod:`web.http_api`):

- ``/api/pages/rooms/{room}/products``: the host's cards (list, create, edit, delete, picture),
  in :mod:`web.product_api` (pinning stays a Socket.IO event, ``product.pin``);
- ``GET|POST /api/pages/rooms/{room}/quotes``: a viewer asks for a quote on a product with their
  contact details; staff list the requests (``quotes.csv``: as CSV) and get each one live as
  ``quote.requested`` on the staff channel; ``GET quotes/mine`` and ``DELETE quotes/{id}``: the
  buyer's own requests and withdrawing one; ``POST quotes/{id}/replies``: staff answer, the buyer
  hears ``quote.replied`` on their ``user:`` channel;
- ``POST /api/pages/rooms/{room}/questions/{question}/answered``: a moderator closes a question;
  the room hears ``question.answered``;
- ``POST /api/pages/rooms/{room}/live``: the host takes a scheduled broadcast live;
- ``/api/pages/recordings``: replays (issue 15), in :mod:`web.replay_api`, and their files
  (``/recordings/{id}/files/{name}``) in :mod:`web.recording_files`;
- ``GET /api/pages/live``: live broadcasts and forums and their audience, for the lobby's counts
  (public; meetings are private and never listed).

Each handler reads the request, asks :class:`rooms.showroom.Showroom` (which asks the gate), and
translates the answer into JSON and, where the room should hear it, a Socket.IO event.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from rooms.quote import QuoteRequest
from rooms.showroom import Showroom
from signaling.wire import room_channel, staff_channel, user_channel
from web import product_api, recording_files, replay_api
from web.bodies import QuoteAsk, QuoteReply
from web.http_api import access_token, api, body, reply
from web.keys import BACKEND_KEY, RENDERER_KEY
from web.pages import request_language
from web.rtc import HUB_KEY

PREFIX = "/api/pages"


def _room(request: web.Request) -> str:
    return request.match_info["room"]


def _showroom(request: web.Request) -> Showroom:
    return Showroom(request.app[BACKEND_KEY].service)


# -- quote requests -------------------------------------------------------------------------------
async def request_quote(request: web.Request) -> web.Response:
    token, form = access_token(request), await body(request, QuoteAsk)
    quote = await _showroom(request).request_quote(
        token, _room(request), form.product, form.language, name=form.name,
        company=form.company, email=form.email, phone=form.phone, message=form.message)
    await _tell(request, quote, "quote.requested", quote.to_dict())
    return reply({"ok": True, "request": quote.to_dict()}, status=201)


async def list_quotes(request: web.Request) -> web.Response:
    quotes = await _showroom(request).quotes(access_token(request), _room(request))
    return reply({"ok": True, "requests": [q.to_dict() for q in quotes]})


async def my_quotes(request: web.Request) -> web.Response:
    quotes = await _showroom(request).my_quotes(access_token(request), _room(request))
    return reply({"ok": True, "requests": [q.to_dict() for q in quotes]},
                 headers={"Cache-Control": "no-store"})


async def withdraw_quote(request: web.Request) -> web.Response:
    quote = await _showroom(request).withdraw_quote(access_token(request), _room(request),
                                                    request.match_info["quote"])
    await _tell(request, quote, "quote.withdrawn", {"room_id": quote.room_id, "id": quote.id})
    return reply({"ok": True, "id": quote.id})


async def reply_quote(request: web.Request) -> web.Response:
    token, form = access_token(request), await body(request, QuoteReply)
    quote, answer = await _showroom(request).reply_quote(
        token, _room(request), request.match_info["quote"], form.text, meeting=form.meeting)
    await _tell(request, quote, "quote.replied", quote.to_dict())
    return reply({"ok": True, "request": quote.to_dict(), "reply": asdict(answer)}, status=201)


async def export_quotes(request: web.Request) -> web.Response:
    text = await _showroom(request).quotes_csv(access_token(request), _room(request))
    name = f"quotes-{_room(request)}.csv".encode("ascii", "replace").decode()
    return web.Response(text=text, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


async def _tell(request: web.Request, quote: QuoteRequest, event: str,
                payload: dict[str, Any]) -> None:
    """The room's staff (every node) and every session of the buyer hear about a request."""
    outbox = request.app[HUB_KEY].outbox
    await outbox.send(staff_channel(quote.room_id), event, payload)
    await outbox.send(user_channel(quote.requester), event, payload)


# -- moderation the protocol does not carry yet ---------------------------------------------------
async def answer_question(request: web.Request) -> web.Response:
    room_id, question_id = _room(request), request.match_info["question"]
    _, question = await _showroom(request).answer(access_token(request), room_id, question_id)
    payload = {**(question.to_dict() if question else {}), "answered": True,
               "room_id": room_id, "question_id": question_id}
    await request.app[HUB_KEY].outbox.send(room_channel(room_id), "question.answered", payload)
    return reply({"ok": True, **payload})


async def go_live(request: web.Request) -> web.Response:
    room, event = await _showroom(request).go_live(access_token(request), _room(request))
    if event is not None:
        await request.app[HUB_KEY].announce([event])
    return reply({"ok": True, "room": room.to_dict()})


async def live_counts(request: web.Request) -> web.Response:
    """``{rooms: {room_id: {count, text}}, ended: {room_id: {text}}}``: every live broadcast and
    forum with its audience, and every ended one (so the lobby stops counting it), ``text`` in
    the request's language with its plural rules (public: the lobby shows it)."""
    catalog = request.app[RENDERER_KEY].catalogs[request_language(request)]
    counts: dict[str, dict[str, Any]] = {}
    showroom = _showroom(request)
    for room, n in await showroom.audiences():
        text = catalog.ngettext("%(num)d watching", "%(num)d watching", n) % {"num": n}
        counts[room.id] = {"count": n, "text": text}
    ended = {room.id: {"text": catalog.gettext("Ended")} for room in await showroom.ended()}
    return reply({"ok": True, "rooms": counts, "ended": ended},
                 headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    room = PREFIX + "/rooms/{room}"
    router = app.router
    router.add_get(room + "/quotes", api(list_quotes))
    router.add_post(room + "/quotes", api(request_quote))
    router.add_get(room + "/quotes/mine", api(my_quotes))
    router.add_get(room + "/quotes.csv", api(export_quotes))
    router.add_delete(room + "/quotes/{quote}", api(withdraw_quote))
    router.add_post(room + "/quotes/{quote}/replies", api(reply_quote))
    router.add_post(room + "/questions/{question}/answered", api(answer_question))
    router.add_post(room + "/live", api(go_live))
    router.add_get(PREFIX + "/live", api(live_counts))
    product_api.add_routes(app, PREFIX)
    replay_api.add_routes(app)
    recording_files.add_routes(app)
