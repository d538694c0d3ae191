"""Who opens a room page, and with which access token (docs/pages.md, "Access").

Two ways in:

- **With a link** ``?token=<jwt>``: hosts, moderators, speakers and meeting guests get a token
  from the organiser (``pavilion token``, the admin API, or the demo links). The page verifies it
  for *this* room before rendering, so a bad link is a translated sentence, not a broken page.
- **Without one**, on a public broadcast or forum: the server mints a short-lived *visitor*
  token (join, subscribe, chat; no publish, no moderate, never ``exhibit`` or ``delegate``).
  Its identity comes from the browser's visitor cookie (:data:`VISITOR_COOKIE`, a random key
  the pages set): the same visitor in every tab and after a reload, so their name, their quote
  requests and a ban stay theirs; a cleared cookie is a new visitor. The identity is an HMAC of
  the key under the node's secret, so the identity others see in a room cannot be turned back
  into the cookie. Meetings and the studio never mint: they are by invitation.
- **Demo mode** hands out staff links for rooms and delegate/exhibitor links for trade meetings
  (:func:`demo_links`, :func:`trade_demo_links`): a demo, never a real event.

Pure functions over values (settings, room, query), no aiohttp, so they are table-tested.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from config import Settings
from rooms.demo import MEETING
from rooms.participant import Role
from rooms.policy import role_for
from rooms.room import Room, RoomKind
from rooms.token import AccessToken, Grant, TokenError, mint, opens_at, verify
from rooms.trade.demo import DEMO_EXHIBITOR
from web.page_strings import N_

VISITOR_TTL_S = 4 * 3600
DEMO_TTL_S = 6 * 3600
VISITOR_GRANTS = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)
STAFF_GRANTS = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT, Grant.MODERATE)
GUEST_GRANTS = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT)
VISITOR_COOKIE = "pavilion_visitor"
VISITOR_COOKIE_MAX_AGE_S = VISITOR_TTL_S  # renewed by every page view
_VISITOR_KEY = re.compile(r"[0-9a-f]{32}")


def visitor_key(cookie: str | None) -> str:
    """The browser's visitor key: its cookie when well formed, else a fresh random one."""
    if cookie and _VISITOR_KEY.fullmatch(cookie):
        return cookie
    return secrets.token_hex(16)


def visitor_identity(settings: Settings, key: str) -> str:
    """The visitor's identity for ``key``: stable per key, unguessable without the secret."""
    digest = hmac.new(settings.secret_value().encode(), b"visitor:" + key.encode(),
                      hashlib.sha256).hexdigest()
    return "visitor-" + digest[:16]


def default_visitor_name(identity: str) -> str:
    """A visitor's default name, the same person and number in every tab (issue 12). It is a
    language-neutral marker: the pages show it in each reader's language ("访客 1234",
    web/static/rooms/names.js) until the visitor chooses a name (``name.set``)."""
    return f"Visitor {int(identity[-4:], 16) % 10_000:04d}"


@dataclass(frozen=True, slots=True)
class Visitor:
    """The person a page is rendered for: a usable token, or the error code that says why not."""

    token: str | None
    identity: str | None
    role: str | None  # the role the token will get in this room (rooms.policy.role_for)
    moderates: bool
    publishes: bool
    error: str | None = None
    minted: bool = False  # a visitor token made for this page view, not a link's
    key: str | None = None  # minted: the visitor key the page keeps in VISITOR_COOKIE
    opens_at: float | None = None  # error "not_open_yet": when the link starts to work (UTC s)


def refused(code: str) -> Visitor:
    return Visitor(None, None, None, False, False, code)


def visitor_for(settings: Settings, room: Room, token: str | None, *,
                visitor_name: str | None = None, staff_only: bool = False,
                key: str | None = None) -> Visitor:
    """Verify the link's token for ``room``, or mint a visitor token where the room is public,
    for the visitor whose cookie holds ``key`` (:func:`visitor_key`; a fresh one without it)."""
    if token:
        return _from_link(settings, room, token)
    if staff_only:
        return refused("token_missing")
    if room.kind is RoomKind.MEETING:
        return refused("not_invited")
    key = visitor_key(key)
    identity = visitor_identity(settings, key)
    text = mint(settings.secret_value(), identity=identity, room=room.id,
                grants=VISITOR_GRANTS, ttl_s=VISITOR_TTL_S,
                name=visitor_name or default_visitor_name(identity))
    return Visitor(text, identity, Role.VIEWER.value, False, False, minted=True, key=key)


def _from_link(settings: Settings, room: Room, token: str) -> Visitor:
    try:
        access = verify(settings.secret_value(), token, room=room.id,
                        leeway_s=settings.token_leeway_s)
    except TokenError as exc:
        early = opens_at(settings.secret_value(), token, room=room.id,
                         leeway_s=settings.token_leeway_s)
        if early is not None:  # a sound link opened early: say when, not "not valid"
            return Visitor(None, None, None, False, False, "not_open_yet", opens_at=early)
        return refused(exc.code)
    if not access.allows(Grant.JOIN):
        return refused("no_join_grant")
    return _described(access, token, room)


def _described(access: AccessToken, token: str, room: Room) -> Visitor:
    role = role_for(room, access)
    moderates = access.allows(Grant.MODERATE) or role is Role.HOST
    publishes = role in (Role.HOST, Role.COHOST, Role.MODERATOR, Role.SPEAKER, Role.GUEST)
    return Visitor(token, access.identity, role.value, moderates, publishes)


def is_host(visitor: Visitor) -> bool:
    """The studio is for whoever runs the broadcast: its host or a moderator."""
    return visitor.role in (Role.HOST.value, Role.MODERATOR.value) and visitor.moderates


@dataclass(frozen=True, slots=True)
class DemoLink:
    label: str  # an English message id, translated by the template
    path: str


def demo_links(settings: Settings, room: Room) -> list[DemoLink]:
    """Demo mode only: links that open the room as its staff or a guest (docs/pages.md)."""
    if not settings.demo:
        return []
    host = room.exhibitor or "organiser"
    secret = settings.secret_value()

    def link(path: str, identity: str, grants: tuple[Grant, ...], name: str) -> str:
        token = mint(secret, identity=identity, room=room.id, grants=grants, ttl_s=DEMO_TTL_S,
                     name=name)
        return f"/{path}/{room.id}?token={token}"

    if room.kind is RoomKind.BROADCAST:
        return [DemoLink(N_("Open the studio as the exhibitor"),
                         link("studio", host, STAFF_GRANTS, host))]
    if room.kind is RoomKind.FORUM:
        return [DemoLink(N_("Join as the moderator"),
                         link("forum", "moderator-" + secrets.token_hex(3), STAFF_GRANTS,
                              "Moderator"))]
    number = secrets.randbelow(10_000)
    guest = f"buyer-{number:04d}-{secrets.token_hex(2)}"
    return [DemoLink(N_("Join as the host"), link("meeting", host, STAFF_GRANTS, host)),
            DemoLink(N_("Join as a buyer"),  # each demo buyer told apart, in any language
                     link("meeting", guest, GUEST_GRANTS, f"Buyer {number:04d}"))]


def trade_demo_links(settings: Settings, lang: str) -> list[DemoLink]:
    """Demo mode only: the meetings pages' way in without an organiser (docs/meetings-api.md).

    A fresh demo delegate (``delegate`` grant, so it may book) opening the demo exhibitor's free
    slots; the demo exhibitor's dashboard (``exhibit`` grant for its own identity); and the
    sample meeting room, which trade meetings keep out of the lobby. Outside demo mode: none.
    """
    if not settings.demo:
        return []
    secret, exhibitor = settings.secret_value(), DEMO_EXHIBITOR

    def token(identity: str, grant: Grant, name: str) -> str:
        return mint(secret, identity=identity, room="*", grants=(grant,), ttl_s=DEMO_TTL_S,
                    name=name)

    delegate = token("delegate-" + secrets.token_hex(3), Grant.DELEGATE, "Demo delegate")
    seller = token(exhibitor, Grant.EXHIBIT, "Gobi Cashmere")
    return [
        DemoLink(N_("Book a meeting as a demo delegate"),
                 f"/meetings?exhibitor={exhibitor}&lang={lang}&token={delegate}"),
        DemoLink(N_("Open the demo exhibitor's dashboard"),
                 f"/meetings/dashboard/{exhibitor}?lang={lang}&token={seller}"),
        DemoLink(N_("Open the sample meeting room"), f"/meeting/{MEETING}?lang={lang}"),
    ]


def meeting_link(settings: Settings, exhibitor: str, lang: str) -> str:
    """Where a viewer's "meet about it" goes: the trade-meeting page of the room's exhibitor,
    whose free slots a delegate may request. In demo mode the link carries a fresh demo
    delegate's token (as :func:`trade_demo_links`); otherwise the visitor needs their own
    delegate registration (a viewer's room token never books: docs/meetings-api.md)."""
    query = {"exhibitor": exhibitor, "lang": lang}
    if settings.demo:
        query["token"] = mint(settings.secret_value(), identity="delegate-" + secrets.token_hex(3),
                              room="*", grants=(Grant.DELEGATE,), ttl_s=DEMO_TTL_S,
                              name="Demo delegate")
    return "/meetings?" + urlencode(query)
