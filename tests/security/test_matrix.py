"""The authorization matrix (issue 11, deliverable 10): transport × role × room state × action.

One table (:data:`ROLES` × :data:`STATES` × :data:`ACTIONS`) is run against a real node through
every door — Socket.IO events, WHIP, WHEP, the page API, the admin API, the meetings API — and
each answer is
compared with :func:`allowed`, the rules written down once here, independently of the code
(docs/security.md says the same in prose). A door that decides by itself, or forgets to ask,
shows up as a cell where its answer and the table disagree.

"Allowed" means the one gate let the request through: the request may still fail for a reason
that is not authorization (a WHEP player with nothing published gets 404), which counts as
allowed; a refusal of the gate (a 401/403, an ack whose code is one of :data:`REFUSALS`) counts
as refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rooms.content import ProductCard
from rooms.errors import RoomsError
from rooms.pavilion import Pavilion
from rooms.recording import FileKind, Recording, RecordingFile, RecordingState
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText
from rooms.token import Grant, mint, verify
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.fixtures.ports import free_port
from tests.pages import pictures
from tests.rtmp.certificate import self_signed, trusting_nobody
from tests.rtmp.client import RtmpClient
from tests.signaling.rtc_client import RtcClient
from web import hls_signature
from web.keys import BACKEND_KEY
from web.media import MEDIA_KEY

pytestmark = pytest.mark.slow
Start = Callable[..., Awaitable[RunningApp]]
SDP_DIR = Path(__file__).parent.parent / "data" / "sdp"
PUBLISH_OFFER = (SDP_DIR / "chromium-156-publish-offer.sdp").read_text()
PLAY_OFFER = (SDP_DIR / "chromium-156-whep-recvonly-offer.sdp").read_text()
EXHIBITOR = "exhibitor-co"
API_KEY = "matrix-admin-key-0123456789-0123456789"
J, P, S, C, M, H = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT, Grant.MODERATE,
                    Grant.HIDDEN)

# Refusals of the gate and of the room's rules (rooms/gate.py, rooms/policy.py), and the
# signalling layer's "join first" (an action of someone the gate did not let in).
REFUSALS = frozenset({
    "wrong_room", "no_join_grant", "no_chat_grant", "no_subscribe_grant", "no_publish_grant",
    "missing_grant", "not_moderator", "not_host", "banned", "room_ended", "not_started",
    "room_locked", "not_invited", "in_waiting_room", "not_on_stage", "not_in_room", "muted",
    "not_joined", "not_a_broadcast", "token_invalid", "bad_signature", "token_expired",
    "not_recorder", "not_allowed",
})


@dataclass(frozen=True)
class Role:
    name: str
    grants: tuple[Grant, ...]
    identity: str = ""  # default: the role's name (host: the room's exhibitor)
    other_room: bool = False  # a token for another room
    banned: bool = False
    admitted: bool = False  # meetings: let in from the waiting room by the host


ROLES = [
    Role("visitor", (J, S, C)),  # what a public page mints
    Role("viewer", (J, S, C)),
    Role("speaker", (J, P, S, C)),  # broadcast co-host, forum speaker, meeting guest
    Role("moderator", (J, P, S, C, M)),
    Role("host", (J, P, S, C, M), identity=EXHIBITOR),
    Role("banned", (J, S, C), banned=True),
    Role("hidden", (J, S, C, H)),
    Role("guest_admitted", (J, P, S, C), admitted=True),
    Role("exhibitor", (Grant.EXHIBIT,)),  # trade docking grants: no room rights
    Role("delegate", (Grant.DELEGATE,)),
    Role("recorder", (Grant.RECORDER,)),  # issue 15: records its room, nothing else
    Role("wrong_room", (J, P, S, C, M), other_room=True),
    Role("interpreter", (J, S, Grant.INTERPRET)),  # issue 17: a booth's (forums, meetings)
]
STATES = ["scheduled", "live", "locked", "ended", "meeting"]
ACTIONS = ["sio.join", "sio.chat", "sio.name", "sio.media", "sio.accept", "sio.decline",
           "sio.subscribe", "sio.view", "sio.lock", "sio.pin", "whep", "whip", "page.product",
           "page.quote", "page.quotes", "page.mine", "page.withdraw", "page.reply", "page.csv",
           "page.edit", "page.picture", "admin.lock", "admin.nodes", "admin.drain", "meet.profile",
           "meet.request", "sio.record", "sio.consent", "page.replay", "page.replay_edit",
           "page.replay_hls", "admin.record", "hls.open", "hls.link", "hls.linked", "rtmp",
           "rtmps", "page.interpret"]
ROOM_CONTENT = ("page.product", "page.quote", "page.quotes", "page.mine", "page.withdraw",
                "page.reply", "page.csv", "page.edit", "page.picture")
PROFILE = {"name": {"en": "Changchun Motors", "zh": "长春汽车"}, "pavilion": "automobile",
           "languages": ["zh", "en"], "time_zone": "Asia/Shanghai"}


def allowed(role: Role, state: str, action: str) -> bool:
    """The rules, once: who may do what in a room in each state (docs/security.md)."""
    grants = set(role.grants)
    if action == "meet.profile":  # trade docking: the exhibitor's own profile, any room state
        return Grant.EXHIBIT in grants
    if action == "meet.request":
        return Grant.DELEGATE in grants
    staff_of_room = (M in grants or role.identity == EXHIBITOR) and not role.other_room
    if action in ("page.replay", "page.replay_hls"):  # issue 15 §3: an unpublished replay,
        # of a room in any state; issue 16 §5: a broadcast's HLS kept as its replay alike
        return staff_of_room and state != "meeting"  # a meeting's: the organiser's only
    if action == "page.replay_edit":
        return staff_of_room
    if action == "hls.open":  # issue 16 §3: live HLS without a link, whoever asks (no token)
        return state in ("live", "ended")  # a public room open to newcomers; an ended one's
        # final playlist (a rehearsal, a locked room and a meeting need a signed link)
    if action == "hls.linked":  # issue 16 §3: a playlist through a link signed for this
        return not role.banned  # identity (handed out before): refused once it is banned
    if role.other_room or role.banned or state == "ended" or action.startswith("admin."):
        return False  # a token never opens the admin API: only its API key does
    meeting = state == "meeting"
    moderates = M in grants or role.identity == EXHIBITOR
    staff = bool({P, M} & grants) or role.identity == EXHIBITOR
    may_enter = meeting or state == "live" or staff  # schedule and lock bar the audience
    # observers skip the waiting room, and so does an interpreter (issue 17: the meeting's
    # extra seat, assigned by the exhibitor's organiser)
    waiting = (meeting and not moderates and not role.admitted and H not in grants
               and Grant.INTERPRET not in grants)
    interpreter = Grant.INTERPRET in grants and meeting  # never on stage (issue 17)
    on_stage = (meeting and not waiting and not interpreter) or (not meeting and staff)
    rules: dict[str, bool] = {
        "sio.join": J in grants and may_enter,
        "sio.chat": J in grants and may_enter and C in grants and not waiting,
        "sio.name": J in grants and may_enter and not waiting,  # one's own presence
        # a speaker's own camera/mic state: on stage (hidden observers never are)
        "sio.media": J in grants and may_enter and not waiting and on_stage and H not in grants,
        # answering a stage invitation: one's own presence (nobody here was invited, so the
        # domain answers no_invitation, past the gate; on stage already, accepting is a no-op)
        "sio.accept": J in grants and may_enter and not waiting,
        "sio.decline": J in grants and may_enter and not waiting,
        "sio.subscribe": J in grants and may_enter and S in grants and not waiting,
        # a tile's size and visibility (issue 14 §2b): asks the gate as subscribe does (the
        # peer named is nobody's here: past the gate the answer is no_such_peer)
        "sio.view": J in grants and may_enter and S in grants and not waiting,
        "sio.lock": J in grants and may_enter and M in grants,
        "sio.pin": J in grants and may_enter and moderates and not meeting,
        "whep": S in grants and may_enter and not waiting,
        "hls.link": S in grants and may_enter and not waiting,  # a signed HLS link: as WHEP
        "whip": P in grants and may_enter and on_stage,
        # issue 16 §8: the stream key is a token and its room the room: the same rule as WHIP
        "rtmp": P in grants and may_enter and on_stage,
        "rtmps": P in grants and may_enter and on_stage,  # the same door behind TLS
        "page.product": moderates and not meeting,
        # a buyer on the page (present, admitted) asks for a quote and withdraws their own;
        # the host's desk answers and exports them
        "page.quote": J in grants and may_enter and not waiting,
        "page.withdraw": J in grants and may_enter and not waiting,
        "page.quotes": moderates and not meeting,  # the host lists every request
        "page.mine": J in grants and may_enter and not waiting,  # a buyer lists their own
        "page.reply": moderates and not meeting,
        "page.csv": moderates and not meeting,
        "page.edit": moderates and not meeting,  # edit a card (delete: the same door)
        "page.picture": moderates and not meeting,
        # issue 15 §3: the host, a moderator, or a recorder token (meetings then ask consent)
        "sio.record": moderates or Grant.RECORDER in grants,
        "sio.consent": J in grants and may_enter and not waiting,  # one's own answer
        # issue 17 §8: the interpreter console, in a forum or a meeting (these rooms are
        # broadcasts but the meeting), before the start too (interpreters set up early)
        "page.interpret": Grant.INTERPRET in grants and meeting,
    }
    return rules[action]


@pytest.mark.parametrize("state", STATES)
async def test_every_door_gives_the_one_decision(pavilion_app: Start, state: str,
                                                 tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    app = await pavilion_app(demo=False, api_key=API_KEY, rtmp_port=free_port(), hls={},
                             rtmps_port=free_port(), rtmps_cert=str(cert), rtmps_key=str(key))
    wrong: list[str] = []
    for role in ROLES:
        room_id = f"{state}-{role.name}".replace("_", "-")
        await _room(app, room_id, state)
        seen = await _try_every_door(app, room_id, role)
        for action in ACTIONS:
            expected = allowed(role, state, action)
            if action in ROOM_CONTENT and state == "meeting":
                continue  # product cards belong to broadcasts: no rule of access involved
            if seen[action][0] != expected:
                wrong.append(f"{state:9} {role.name:14} {action:13} expected "
                             f"{'allow' if expected else 'refuse'}, got {seen[action][1]}")
    assert not wrong, "\n" + "\n".join(wrong)


async def test_the_node_routes_open_to_the_api_key(pavilion_app: Start) -> None:
    """The admin API's node routes (issue 13) with its key: listed, and drained (the drain
    itself is tests/cluster/test_drain.py); the table above refuses every role's token."""
    app = await pavilion_app(demo=False, api_key=API_KEY)
    node = app.settings.node_id
    listed = await _http(app, "GET", "/api/admin/nodes", API_KEY, "", "application/json")
    assert listed[0] and f'"id": "{node}"' in listed[1], listed
    drained = await _http(app, "POST", f"/api/admin/nodes/{node}/drain", API_KEY, "",
                          "application/json")
    assert drained[1].startswith("202"), drained
    async with aiohttp.ClientSession() as http, http.get(app.url + "/readyz") as response:
        assert (response.status, await response.json()) == (
            503, {"ready": False, "reason": "draining"})
    other = await _http(app, "POST", "/api/admin/nodes/no-such-node/drain", API_KEY, "",
                        "application/json")
    assert other[1].startswith("404") and "no_such_node" in other[1], other


async def _room(app: RunningApp, room_id: str, state: str) -> None:
    kind = RoomKind.MEETING if state == "meeting" else RoomKind.BROADCAST
    starts = datetime.now(UTC) + (timedelta(hours=3) if state == "scheduled" else
                                  timedelta(minutes=-5))
    room = Room(id=room_id, kind=kind, pavilion=Pavilion.NEW_MEDIA,
                title=LocalizedText({"en": room_id}), exhibitor=EXHIBITOR, starts_at=starts,
                state={"scheduled": RoomState.SCHEDULED, "ended": RoomState.ENDED}.get(
                    state, RoomState.LIVE), locked=state == "locked")
    store = app.app[BACKEND_KEY].store
    await store.put_room(room)
    await store.put_recording(Recording(id=f"rec_{room_id}", room=room_id, room_kind=kind,
                                        node=app.settings.node_id, state=RecordingState.DONE,
                                        started_at=0.0, owner=EXHIBITOR))
    await store.put_recording(Recording(id=f"rec_hls_{room_id}", room=room_id, room_kind=kind,
                                        node=app.settings.node_id, state=RecordingState.DONE,
                                        started_at=0.0, owner=EXHIBITOR, started_by="hls",
                                        files=(RecordingFile("index.m3u8", FileKind.HLS,
                                                             "application/vnd.apple.mpegurl"),)))
    await store.put_product(ProductCard(id="p0", room_id=room_id,
                                        name=LocalizedText({"en": "Tea"}),
                                        price=Decimal("9.90"), currency="CNY",
                                        request_quote=True))


def _token(role: Role, room_id: str, suffix: str) -> str:
    identity = role.identity or f"{role.name}-{suffix}"
    return mint(TEST_SECRET, identity=identity, room="other-room" if role.other_room else room_id,
                grants=role.grants, ttl_s=600, name=identity)


async def _prepare(app: RunningApp, role: Role, room_id: str, tok: str) -> None:
    """Bans and admissions happen before the role acts (as a moderator would have done)."""
    access = verify(TEST_SECRET, tok)
    store, service = app.app[BACKEND_KEY].store, app.app[BACKEND_KEY].service
    if role.banned:
        await store.ban(room_id, access.identity, until=access.expires_at)
    room = await store.get_room(room_id)
    if role.admitted and room is not None and room.kind is RoomKind.MEETING:
        organiser = verify(TEST_SECRET, mint(TEST_SECRET, identity="organiser", room="*",
                                             grants=[J, M], ttl_s=600))
        await service.join(access, room_id)
        await service.admit(organiser, room_id, access.identity)


async def _try_every_door(app: RunningApp, room_id: str,
                          role: Role) -> dict[str, tuple[bool, str]]:
    seen: dict[str, tuple[bool, str]] = {}
    tokens = {door: _token(role, room_id, door) for door in ("sio", "whep", "whip", "page")}
    for tok in tokens.values():
        await _prepare(app, role, room_id, tok)
    # before any door acts on the room (a moderator's sio.lock locks it): no token at all
    seen["hls.open"] = await _http(app, "GET", f"/hls/{room_id}/index.m3u8", "", "",
                                   "application/vnd.apple.mpegurl")
    seen.update(await _socketio(app, room_id, tokens["sio"]))
    seen["whep"] = await _http(app, "POST", f"/whep/{room_id}", tokens["whep"], PLAY_OFFER,
                               "application/sdp")
    seen["whip"] = await _http(app, "POST", f"/whip/{room_id}", tokens["whip"], PUBLISH_OFFER,
                               "application/sdp")
    # the publisher's own token as an encoder's stream key (a meeting seats 4 people)
    seen["rtmp"] = await _rtmp(app, tokens["whip"])
    seen["rtmps"] = await _rtmp(app, tokens["whip"], tls=True)
    seen["page.interpret"] = await _page(app, f"/interpret/{room_id}?token={tokens['page']}")
    seen["page.product"] = await _http(
        app, "POST", f"/api/pages/rooms/{room_id}/products", tokens["page"],
        '{"name": "Green tea", "price": "9.90", "currency": "CNY"}', "application/json")
    await _present(app, room_id, tokens["page"])  # the page's buyer has joined over Socket.IO
    quotes = f"/api/pages/rooms/{room_id}/quotes"
    seen["page.quote"] = await _http(app, "POST", quotes, tokens["page"],
                                     '{"product": "p0", "email": "buyer@example.cn"}',
                                     "application/json")
    seen["page.quotes"] = await _http(app, "GET", quotes, tokens["page"], "",
                                      "application/json")
    seen["page.mine"] = await _http(app, "GET", quotes + "/mine", tokens["page"], "",
                                    "application/json")
    seen["page.withdraw"] = await _http(app, "DELETE", quotes + "/q-none", tokens["page"], "",
                                        "application/json")
    seen["page.reply"] = await _http(app, "POST", quotes + "/q-none/replies", tokens["page"],
                                     '{"text": "thanks"}', "application/json")
    seen["page.csv"] = await _http(app, "GET", quotes + ".csv", tokens["page"], "", "text/csv")
    seen["page.edit"] = await _http(app, "PATCH", f"/api/pages/rooms/{room_id}/products/p0",
                                    tokens["page"], '{"language": "en", "name": "Black tea"}',
                                    "application/json")
    seen["page.picture"] = await _http(app, "PUT",
                                       f"/api/pages/rooms/{room_id}/products/p0/picture",
                                       tokens["page"], pictures.png(), "image/png")
    seen["admin.lock"] = await _http(app, "POST", f"/api/admin/rooms/{room_id}/lock",
                                     tokens["page"], '{"locked": true}', "application/json")
    seen["admin.nodes"] = await _http(app, "GET", "/api/admin/nodes", tokens["page"], "",
                                      "application/json")
    seen["admin.drain"] = await _http(app, "POST",
                                      f"/api/admin/nodes/{app.settings.node_id}/drain",
                                      tokens["page"], "", "application/json")
    seen["hls.link"] = await _http(app, "GET", f"/api/pages/rooms/{room_id}/hls",
                                   tokens["page"], "", "application/json")
    linked = hls_signature.signed_query(TEST_SECRET, room_id,
                                        verify(TEST_SECRET, tokens["page"]).identity,
                                        now=time.time(), ttl_s=600)
    seen["hls.linked"] = await _http(app, "GET", f"/hls/{room_id}/index.m3u8?{linked}", "", "",
                                     "application/vnd.apple.mpegurl")
    replay = f"/api/pages/recordings/rec_{room_id}"
    seen["page.replay"] = await _http(app, "GET", replay, tokens["page"], "", "application/json")
    seen["page.replay_hls"] = await _http(app, "GET", f"/api/pages/recordings/rec_hls_{room_id}",
                                          tokens["page"], "", "application/json")
    seen["page.replay_edit"] = await _http(app, "PATCH", replay, tokens["page"],
                                           '{"title": "Day one"}', "application/json")
    seen["admin.record"] = await _http(app, "POST", f"/api/admin/rooms/{room_id}/recordings",
                                       tokens["page"], "", "application/json")
    identity = verify(TEST_SECRET, tokens["page"]).identity
    seen["meet.profile"] = await _http(app, "PUT", f"/api/meetings/exhibitors/{identity}",
                                       tokens["page"], json.dumps(PROFILE), "application/json")
    seen["meet.request"] = await _http(app, "POST", "/api/meetings/requests", tokens["page"],
                                       '{"slot_id": "no-such-slot"}', "application/json")
    seen["page.interpret"] = await _page(app, f"/interpret/{room_id}?token={tokens['whep']}")
    plane = app.app[MEDIA_KEY]
    for peer_id in [p for p, peer in plane.peers.items() if peer.room == room_id]:
        await plane.close(peer_id)
    return seen


async def _present(app: RunningApp, room_id: str, tok: str) -> None:
    """Join as the page's Socket.IO session would; a refusal leaves the caller absent."""
    try:
        await app.app[BACKEND_KEY].service.join(verify(TEST_SECRET, tok), room_id)
    except RoomsError:
        pass


async def _socketio(app: RunningApp, room_id: str, tok: str) -> dict[str, tuple[bool, str]]:
    try:
        client = await RtcClient.connect(app, tok)
    except Exception as exc:  # a refused connection (a bad token) refuses every event
        return {a: (False, f"connect refused: {exc}") for a in ACTIONS if a.startswith("sio.")}
    events = [("sio.join", "join", {"room": room_id}),
              ("sio.chat", "chat.send", {"room": room_id, "text": "hello"}),
              ("sio.name", "name.set", {"room": room_id, "name": "Someone Else"}),
              ("sio.media", "media.state", {"room": room_id, "audio_off": True}),
              ("sio.accept", "stage.accept", {"room": room_id}),
              ("sio.decline", "stage.decline", {"room": room_id}),
              ("sio.subscribe", "subscribe", {"room": room_id}),
              ("sio.view", "view", {"room": room_id, "peer": "p-none", "width": 640,
                                    "height": 360, "visible": True}),
              ("sio.pin", "product.pin", {"room": room_id, "product": "p0"}),
              ("sio.lock", "room.lock", {"room": room_id, "locked": True}),
              ("sio.consent", "record.consent", {"room": room_id, "agree": True}),
              ("sio.record", "record.start", {"room": room_id})]
    seen: dict[str, tuple[bool, str]] = {}
    for action, event, payload in events:
        reply: dict[str, Any] = await client.call(event, payload)
        code = "ok" if reply.get("ok") else reply["error"]["code"]
        seen[action] = (code not in REFUSALS, code)
    await client.close()
    return seen


async def _rtmp(app: RunningApp, tok: str, *, tls: bool = False) -> tuple[bool, str]:
    """An RTMP encoder whose stream key is ``tok``: let in if the server says Publish.Start;
    ``tls``: the same over RTMPS (issue 16 §8)."""
    if tls:
        client = await RtmpClient.connect(app.settings.rtmps_port, tls=trusting_nobody())
    else:
        client = await RtmpClient.connect(app.settings.rtmp_port)
    try:
        status = await client.publish(tok)
    finally:
        await client.close()
    return status.get("code") == "NetStream.Publish.Start", \
        f"{status.get('code')} {status.get('description', '')}"[:80]


async def _http(app: RunningApp, method: str, path: str, tok: str, body: str | bytes,
                content_type: str) -> tuple[bool, str]:
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    headers["Content-Type"] = content_type
    async with aiohttp.ClientSession() as http, http.request(
            method, app.url + path, data=body, headers=headers) as response:
        text = (await response.text())[:80].strip()
        assert response.status < 500, (path, response.status, text)
        return response.status not in (401, 403), f"{response.status} {text}"


async def _page(app: RunningApp, path: str) -> tuple[bool, str]:
    """A page door (issue 17: the interpreter console): allowed when it renders (200); a
    refusal is the page with a translated sentence (403, or 410 for an ended room)."""
    async with aiohttp.ClientSession() as http, http.get(app.url + path) as response:
        assert response.status < 500, (path, response.status)
        return response.status == 200, str(response.status)


# -- issue 17: interpretation channels, every door, in forums and meetings ---------------------
INT = Grant.INTERPRET
I_ROLES = [
    Role("interpreter", (J, S, C, INT)),  # languages zh, en (see _i_token)
    Role("interp_other", (J, S, C, INT)),  # languages ko, mn: not the zh channel's
    Role("viewer", (J, S, C)),
    Role("speaker", (J, P, S, C)),
    Role("moderator", (J, P, S, C, M)),
    Role("banned", (J, S, C, INT), banned=True),
    Role("wrong_room", (J, S, C, INT), other_room=True),
]
I_STATES = ["forum", "forum_scheduled", "forum_locked", "forum_ended", "meeting"]
I_ACTIONS = ["sio.channel", "sio.handover", "sio.channel_accept", "sio.channel_mute",
             "sio.listen", "whip.channel", "whep.language", "page.interpret"]
I_REFUSALS = REFUSALS | {"wrong_language"}


def allowed_channel(role: Role, state: str, action: str) -> bool:
    """The rules of issue 17 (docs/interpretation.md §2): an interpreter works the channels of
    their languages and enters before the start and through a lock, as staff do; a moderator
    may mute any channel; anyone who may receive the room may listen to a channel."""
    grants = set(role.grants)
    if role.other_room or role.banned or state == "forum_ended":
        return False
    meeting = state == "meeting"
    interpreter = INT in grants and M not in grants
    staff = bool({P, M} & grants) or interpreter
    may_enter = state in ("forum", "meeting") or staff
    waiting = meeting and M not in grants and not interpreter  # meeting guests wait
    works_zh = interpreter and role.name == "interpreter" and may_enter
    rules = {
        "sio.channel": J in grants and works_zh,
        "sio.handover": J in grants and works_zh,
        "sio.channel_accept": J in grants and works_zh,
        "sio.channel_mute": J in grants and may_enter and not waiting
        and (works_zh or M in grants),
        "sio.listen": J in grants and S in grants and may_enter and not waiting,
        "whip.channel": works_zh,
        "whep.language": S in grants and may_enter and not waiting,
        # the interpreter console (issue 17 §8): the interpret grant, in any state but ended
        # (interpreters set up before the start and behind a lock)
        "page.interpret": interpreter,
    }
    return rules[action]


@pytest.mark.parametrize("state", I_STATES)
async def test_every_interpretation_door_asks_the_gate(pavilion_app: Start, state: str) -> None:
    app = await pavilion_app(demo=False, api_key=API_KEY)
    wrong: list[str] = []
    for role in I_ROLES:
        room_id = f"i-{state}-{role.name}".replace("_", "-")
        await _i_room(app, room_id, state)
        seen = await _i_doors(app, room_id, role)
        for action in I_ACTIONS:
            expected = allowed_channel(role, state, action)
            if seen[action][0] != expected:
                wrong.append(f"{state:15} {role.name:12} {action:18} expected "
                             f"{'allow' if expected else 'refuse'}, got {seen[action][1]}")
    assert not wrong, "\n" + "\n".join(wrong)


async def _i_room(app: RunningApp, room_id: str, state: str) -> None:
    kind = RoomKind.MEETING if state == "meeting" else RoomKind.FORUM
    starts = datetime.now(UTC) + (timedelta(hours=3) if state == "forum_scheduled" else
                                  timedelta(minutes=-5))
    room = Room(id=room_id, kind=kind, pavilion=Pavilion.NEW_MEDIA,
                title=LocalizedText({"en": room_id}), exhibitor=EXHIBITOR, starts_at=starts,
                state={"forum_scheduled": RoomState.SCHEDULED,
                       "forum_ended": RoomState.ENDED}.get(state, RoomState.LIVE),
                locked=state == "forum_locked")
    await app.app[BACKEND_KEY].store.put_room(room)


def _i_token(role: Role, room_id: str, suffix: str) -> str:
    languages = {"interpreter": ("zh", "en"), "interp_other": ("ko", "mn")}.get(role.name, ())
    if role.banned:
        languages = ("zh", "en")
    return mint(TEST_SECRET, identity=f"{role.name}-{suffix}",
                room="other-room" if role.other_room else room_id, grants=role.grants,
                ttl_s=600, languages=languages)


async def _i_doors(app: RunningApp, room_id: str, role: Role) -> dict[str, tuple[bool, str]]:
    tokens = {door: _i_token(role, room_id, door) for door in ("sio", "whip", "whep")}
    for tok in tokens.values():
        await _prepare(app, role, room_id, tok)
    seen = await _i_socketio(app, room_id, tokens["sio"])
    seen["whip.channel"] = await _http(app, "POST", f"/whip/{room_id}?channel=zh",
                                       tokens["whip"], PUBLISH_OFFER, "application/sdp")
    seen["whep.language"] = await _http(app, "POST", f"/whep/{room_id}?language=zh",
                                        tokens["whep"], PLAY_OFFER, "application/sdp")
    seen["page.interpret"] = await _page(app, f"/interpret/{room_id}?token={tokens['whep']}")
    plane = app.app[MEDIA_KEY]
    for peer_id in [p for p, peer in plane.peers.items() if peer.room == room_id]:
        await plane.close(peer_id)
    return seen


async def _i_socketio(app: RunningApp, room_id: str, tok: str) -> dict[str, tuple[bool, str]]:
    try:
        client = await RtcClient.connect(app, tok)
    except Exception as exc:
        return {a: (False, f"connect refused: {exc}") for a in I_ACTIONS if a.startswith("sio.")}
    zh = {"room": room_id, "language": "zh"}
    await client.call("join", {"room": room_id})
    events = [("sio.channel", "publish", {"room": room_id, "sdp": PUBLISH_OFFER,
                                          "channel": "zh"}),
              ("sio.handover", "channel.handover", zh),
              ("sio.channel_accept", "channel.accept", zh),
              ("sio.channel_mute", "channel.mute", {**zh, "muted": True}),
              ("sio.listen", "subscribe", {"room": room_id, "sdp": PLAY_OFFER,
                                           "channel": "zh"})]
    seen: dict[str, tuple[bool, str]] = {}
    for action, event, payload in events:
        reply: dict[str, Any] = await client.call(event, payload)
        code = "ok" if reply.get("ok") else reply["error"]["code"]
        seen[action] = (code not in I_REFUSALS, code)
    await client.close()
    return seen


# -- issue 18 §2: the organiser console, every door ------------------------------------------
@dataclass(frozen=True)
class Caller:
    name: str
    room: str  # the token's room ("*": every room)
    grants: tuple[Grant, ...]
    identity: str = ""
    expired: bool = False
    forged: bool = False


CALLERS = [
    Caller("organiser", "*", (J, M)),
    Caller("organiser_expired", "*", (J, M), expired=True),
    Caller("organiser_forged", "*", (J, M), forged=True),
    Caller("every_room_no_moderate", "*", (J, S, C)),
    Caller("delegate", "*", (Grant.DELEGATE,)),
    Caller("exhibitor", "*", (Grant.EXHIBIT,)),
    Caller("moderator", "c-room", (J, P, S, C, M)),
    Caller("host", "c-room", (J, P, S, C, M), identity=EXHIBITOR),
    Caller("viewer", "c-room", (J, S, C)),
    Caller("recorder", "c-room", (Grant.RECORDER,)),
    Caller("interpreter", "c-room", (J, S, Grant.INTERPRET)),
]
CONSOLE_DOORS = ["page.console", "sio.console", "sio.console_kick", "sio.console_room",
                 "admin.overview", "admin.health"]


def allowed_console(caller: Caller, door: str) -> bool:
    """The console is the organiser's: a valid token for every room with ``moderate``; the
    admin API's overview and health open to its API key only, never to a token."""
    if door.startswith("admin."):
        return False
    return (caller.room == "*" and M in caller.grants and not caller.expired
            and not caller.forged)


def _caller_token(caller: Caller) -> str:
    secret = "forged-" + TEST_SECRET if caller.forged else TEST_SECRET
    now = time.time() - (3600 if caller.expired else 0)
    return mint(secret, identity=caller.identity or caller.name, room=caller.room,
                grants=caller.grants, ttl_s=600, now=now)


async def _console_doors(app: RunningApp, tok: str) -> dict[str, tuple[bool, str]]:
    from tests.console.console_client import ConsoleClient, Refused
    seen = {"page.console": await _page(app, f"/console?token={tok}"),
            "admin.overview": await _http(app, "GET", "/api/admin/overview", tok, "",
                                          "application/json"),
            "admin.health": await _http(app, "GET", "/api/admin/rooms/c-room/health", tok, "",
                                        "application/json")}
    try:
        console = await ConsoleClient.connect(app, {"token": tok})
    except Refused as exc:
        for door in ("sio.console", "sio.console_kick", "sio.console_room"):
            seen[door] = (False, str(exc.code))
        return seen
    seen["sio.console"] = (True, "connected")
    for door, event, payload in (
            ("sio.console_room", "console.room", {"room": "c-room"}),
            ("sio.console_kick", "console.kick", {"room": "c-room", "identity": "nobody"})):
        ack = await console.call(event, payload)
        code = "ok" if ack.get("ok") else ack["error"]["code"]
        seen[door] = (code not in REFUSALS | {"not_organiser"}, code)
    await console.close()
    return seen


async def test_the_console_is_the_organisers(pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False, api_key=API_KEY)
    await _room(app, "c-room", "live")
    wrong: list[str] = []
    for caller in CALLERS:
        seen = await _console_doors(app, _caller_token(caller))
        for door in CONSOLE_DOORS:
            expected = allowed_console(caller, door)
            if seen[door][0] != expected:
                wrong.append(f"{caller.name:24} {door:18} expected "
                             f"{'allow' if expected else 'refuse'}, got {seen[door][1]}")
    assert not wrong, "\n" + "\n".join(wrong)
