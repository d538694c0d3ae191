"""The trade-meeting JSON API under ``/api/meetings/`` (issue 7; contract in docs/meetings-api.md).

Who calls is the identity of an access token (``Authorization: Bearer <token>``; for downloads a
browser starts, ``?access_token=`` as RFC 6750 §2.3 allows). The directory and an exhibitor's
free slots are public; what else a token may do (``exhibit``, ``delegate``, organiser) the domain
decides (:class:`rooms.trade.caller.Caller`). Every body is checked against its model
(:mod:`web.bodies`) and every refusal is ``{"ok": false, "error": {"code", "message"}}``
(:mod:`web.http_api`, the one error table): 400 bad input, 401 token, 403 not allowed, 404
unknown id, 409 conflict (slot taken, overlap, quota, changed meanwhile), 429 too many requests
from one client and 503 store down, both with ``Retry-After``. Times are UTC (``...Z``);
``?tz=<IANA zone>`` adds ``starts_local``/``ends_local`` in the viewer's zone.

``install(app, settings)`` adds the routes, the pages (:mod:`web.meetings_pages`) and one
``cleanup_ctx`` that opens :func:`rooms.trade.backend.open_bookings` (after the rooms backend)
under :data:`BOOKINGS_KEY` (its service and agenda).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from config import Settings
from rooms.clock import Clock
from rooms.errors import InvalidInput, NotAllowed
from rooms.pavilion import Pavilion
from rooms.service import NameBook
from rooms.text import LocalizedText
from rooms.trade.availability import check_identity, zone
from rooms.trade.backend import Bookings, open_bookings
from rooms.trade.ics import Invitation, render
from rooms.trade.report import dashboard, export_csv
from rooms.trade.request import Action
from rooms.trade.service import BookingService, Caller
from web import meetings_pages
from web.bodies import Answer, Booking, Feedback, Profile, Publish, QuoteBooking
from web.http_api import Handler, access_token, body, reply
from web.http_api import api as _shared_api
from web.keys import BACKEND_KEY, SETTINGS_KEY
from web.meetings_json import localized, request_json, slot_json
from web.meetings_notifier import SocketNotifier

PREFIX = "/api/meetings"
BOOKINGS_KEY: web.AppKey[Bookings] = web.AppKey("bookings", Bookings)
CLOCK_KEY: web.AppKey[Clock] = web.AppKey("meetings_clock")  # tests shift the meetings' time
_ACTIONS = {a.value: a for a in (Action.ACCEPT, Action.DECLINE, Action.PROPOSE, Action.WITHDRAW,
                                 Action.CANCEL)}


def install(app: web.Application, settings: Settings) -> None:
    """Add ``/api/meetings/...``, the meeting pages, and the bookings' lifetime to ``app``."""
    app.cleanup_ctx.append(_bookings_ctx)
    r, e, q = app.router, PREFIX + "/exhibitors/{exhibitor}", PREFIX + "/requests/{request}"
    r.add_get(PREFIX + "/exhibitors", _api(directory))
    r.add_get(e, _api(exhibitor))
    r.add_put(e, _api(put_exhibitor))
    r.add_get(e + "/slots", _api(slots))
    r.add_post(e + "/slots", _api(publish))
    r.add_post(e + "/requests", _api(quote))
    r.add_get(e + "/requests", _api(exhibitor_requests))
    r.add_get(e + "/dashboard", _api(exhibitor_dashboard))
    r.add_get(e + "/meetings.csv", _api(meetings_csv))
    r.add_delete(PREFIX + "/slots/{slot}", _api(remove_slot))
    r.add_post(PREFIX + "/requests", _api(create_request))
    r.add_get(PREFIX + "/mine", _api(mine))
    r.add_get(q, _api(one_request))
    r.add_post(q + "/feedback", _api(rate))
    r.add_get(q + "/join", _api(join))
    r.add_get(q + "/invite.ics", _api(invite))
    r.add_post(q + "/{action}", _api(act))
    r.add_get(PREFIX + "/notifications", _api(notifications))
    meetings_pages.add_routes(app)


async def _bookings_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_bookings(app[SETTINGS_KEY], app[BACKEND_KEY], clock=app.get(CLOCK_KEY),
                             notifier=SocketNotifier(app)) as bookings:
        app[BOOKINGS_KEY] = bookings
        app[BACKEND_KEY].service.names = _profile_names(bookings)
        yield


def _profile_names(bookings: Bookings) -> NameBook:
    """An exhibitor's localized name is the one of its trade profile (issue 12, point 8)."""
    async def names(identity: str) -> LocalizedText | None:
        profile = await bookings.service.store.get_profile(identity)
        return profile.name if profile is not None else None
    return names


def _api(handler: Handler) -> Handler:
    """Domain and token refusals answered by the one error table (:func:`web.http_api.failure`)."""
    return _shared_api(handler, realm="pavilion-meetings")


def _service(request: web.Request) -> BookingService:
    return request.app[BOOKINGS_KEY].service


def caller(request: web.Request) -> Caller:
    """The verified token behind the request as a :class:`Caller` (what it allows is decided by
    ``Caller.of``), with the client's address for the per-client quota."""
    token = access_token(request, from_query=True)
    return Caller.of(token, client=request.remote or "")


def _tz(request: web.Request) -> str:
    name = request.query.get("tz", "UTC")
    zone(name)
    return name


def _now(request: web.Request) -> datetime:
    return datetime.fromtimestamp(_service(request).clock.now(), tz=UTC)


# -- directory and exhibitors --------------------------------------------------------------------
async def directory(request: web.Request) -> web.Response:
    raw = request.query.get("pavilion") or None
    try:
        pavilion = Pavilion(raw) if raw else None
    except ValueError:
        raise InvalidInput("bad_pavilion", f"unknown pavilion {raw!r}") from None
    found = await _service(request).directory(
        pavilion=pavilion, product=request.query.get("product", "")[:100],
        language=request.query.get("language", "")[:3])
    return reply({"exhibitors": [{**p.to_dict(), "free_slots": n} for p, n in found]})


async def exhibitor(request: web.Request) -> web.Response:
    service, tz = _service(request), _tz(request)
    profile = await service.profile(request.match_info["exhibitor"])
    free = await service.slots(profile.id)
    return reply({**profile.to_dict(), "slots": [slot_json(s, None, tz) for s, _ in free]})


async def put_exhibitor(request: web.Request) -> web.Response:
    data = {**(await body(request, Profile)).fields(), "id": request.match_info["exhibitor"]}
    profile = await _service(request).put_profile(caller(request), data)
    return reply(profile.to_dict())


async def slots(request: web.Request) -> web.Response:
    """Free future slots (public); ``?all=1``: also held and past ones, for the exhibitor."""
    service, tz, name = _service(request), _tz(request), request.match_info["exhibitor"]
    everything = request.query.get("all") == "1"
    if everything:
        await service.requests_of(caller(request), name)  # authorises: acts for the exhibitor
    found = await service.slots(name, include_held=everything, include_past=everything)
    return reply({"slots": [slot_json(s, held if everything else None, tz)
                            for s, held in found]})


async def publish(request: web.Request) -> web.Response:
    form = await body(request, Publish)
    made = await _service(request).publish(
        caller(request), request.match_info["exhibitor"], [s.fields() for s in form.slots],
        host=check_identity(form.host, "host") if form.host is not None else None)
    tz = _tz(request)
    return reply({"slots": [slot_json(s, None, tz) for s in made]}, status=201)


async def remove_slot(request: web.Request) -> web.Response:
    removed = await _service(request).remove_slot(caller(request), request.match_info["slot"])
    return reply({"removed": removed.to_dict()})


# -- requests ------------------------------------------------------------------------------------
async def create_request(request: web.Request) -> web.Response:
    form = await body(request, Booking)
    made = await _service(request).request(caller(request), form.slot_id, message=form.message,
                                           time_zone=form.time_zone,
                                           interpreter=form.interpreter)
    return reply(request_json(made, tz=form.time_zone or "UTC"), status=201)


async def quote(request: web.Request) -> web.Response:
    """"Request a quote" (the viewer page's button): a request to this exhibitor for ``slot_id``
    or, without one, its earliest free slot (``language`` narrows the choice)."""
    service, form = _service(request), await body(request, QuoteBooking)
    who, name = caller(request), request.match_info["exhibitor"]
    slot_id = form.slot_id
    if slot_id is None:
        language = form.language or ""
        free = [s for s, _ in await service.slots(name)
                if not language or language in s.languages]
        if not free:
            raise NotAllowed("no_free_slot", "this exhibitor has no free slot to request")
        slot_id = free[0].id
    elif (await service.slot(slot_id)).exhibitor != name:
        raise NotAllowed("not_this_exhibitor", "that slot belongs to another exhibitor")
    made = await service.request(who, slot_id, message=form.message, time_zone=form.time_zone)
    return reply(request_json(made, tz=form.time_zone or "UTC"), status=201)


async def act(request: web.Request) -> web.Response:
    action = _ACTIONS.get(request.match_info["action"])
    if action is None:
        raise web.HTTPNotFound()
    form = await body(request, Answer)
    changed = await _service(request).act(
        caller(request), request.match_info["request"], action, reason=form.reason,
        slot_id=form.slot_id)
    return reply(request_json(changed, tz=_tz(request)))


async def mine(request: web.Request) -> web.Response:
    tz = _tz(request)
    views = await _service(request).mine(caller(request))
    return reply({"requests": [request_json(v.request, tz=tz) for v in views]})


async def one_request(request: web.Request) -> web.Response:
    view = await _service(request).view(caller(request), request.match_info["request"])
    return reply(request_json(view.request, tz=_tz(request), view=view))


async def exhibitor_requests(request: web.Request) -> web.Response:
    tz = _tz(request)
    found = await _service(request).requests_of(caller(request), request.match_info["exhibitor"])
    return reply({"requests": [request_json(r, tz=tz) for r in found]})


# -- the meeting ---------------------------------------------------------------------------------
async def join(request: web.Request) -> web.Response:
    link = await _service(request).join_link(caller(request), request.match_info["request"])
    return reply({"url": link.url, "token": link.token,
                  **localized({"valid_from": link.valid_from, "valid_until": link.valid_until},
                              _tz(request))})


async def invite(request: web.Request) -> web.Response:
    """The meeting as an RFC 5545 file, in the caller's zone, with the caller's join link."""
    service, who = _service(request), caller(request)
    view = await service.view(who, request.match_info["request"])
    meeting = view.request
    link = await service.join_link(who, meeting.id)
    profile = await service.profile(meeting.exhibitor)
    tz = meeting.buyer_time_zone if view.side.value == "buyer" else meeting.time_zone
    text = render(Invitation(
        uid=f"{meeting.id}@pavilion", summary=f"{profile.name.get('en')} · {meeting.buyer_name}",
        description=f"{meeting.message}\n\n{link.url}".strip(), url=link.url,
        starts_at=meeting.starts_at, ends_at=meeting.ends_at, time_zone=tz, stamp=_now(request),
        sequence=meeting.version))
    return web.Response(body=text.encode(), content_type="text/calendar", charset="utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="meeting-{meeting.id}.ics"'})


async def rate(request: web.Request) -> web.Response:
    form = await body(request, Feedback)
    record = await _service(request).rate(caller(request), request.match_info["request"],
                                          rating=form.rating, note=form.note)
    return reply(record.to_dict())


# -- the exhibitor's dashboard -------------------------------------------------------------------
async def exhibitor_dashboard(request: web.Request) -> web.Response:
    service, tz = _service(request), _tz(request)
    found = await service.requests_of(caller(request), request.match_info["exhibitor"])
    records = await service.records_of(found)
    board = dashboard(found, records, _now(request))
    return reply({**board.summary(),
                  "upcoming_meetings": [request_json(r, tz=tz) for r in board.upcoming],
                  "awaiting_requests": [request_json(r, tz=tz) for r in board.awaiting],
                  "past_meetings": [{**request_json(r, tz=tz),
                                     "attendance": records[r.id].attendance().value,
                                     "buyer_rating": records[r.id].buyer.rating,
                                     "mine": records[r.id].exhibitor.to_dict()}
                                    for r in board.past]})


async def meetings_csv(request: web.Request) -> web.Response:
    service, tz, name = _service(request), _tz(request), request.match_info["exhibitor"]
    found = await service.requests_of(caller(request), name)
    text = export_csv(found, await service.records_of(found), tz)
    return web.Response(body=text.encode(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="meetings-{name}.csv"'})


async def notifications(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise InvalidInput("bad_limit", "limit must be 1-100")
    found = await _service(request).notices(caller(request), limit=int(raw))
    return reply({"notifications": [n.to_dict() for n in found]})
