"""The one gate (DESIGN.md §6, issue 11): may this verified caller do this action in this room now?

Every door asks here: Socket.IO events, WHIP, WHEP, the page API, the meetings API's meeting
rooms, the admin API (as the organiser). A door turns its request into one :class:`Action`,
:meth:`rooms.service.RoomService.authorize` gathers the :class:`Facts` from the Store, and
:func:`decide` answers: silently yes, or :class:`~rooms.errors.NotAllowed` whose ``code`` the door
translates into its own status (an ack, 403, 404). No door decides by itself.

The answer uses the token *and* the room's state, in this order (the first refusal wins, so a
client is told the most basic reason): the token's room covers this room; the token carries
the action's grant; the identity is not banned; the room has not ended; entering (a first join,
WHIP, WHEP) respects the schedule, the lock and the meeting's invitation; presence-bound actions
need presence, admission (not in the waiting room) and no mute; publishing needs the stage.

Pure: no I/O, table-tested (tests/rooms/test_gate.py) and exercised through every transport by
the authorization matrix (tests/security/test_matrix.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rooms import policy
from rooms.errors import NotAllowed
from rooms.participant import Participant
from rooms.recording import Recording
from rooms.room import Room, RoomKind, RoomState
from rooms.token import AccessToken, Grant


class Action(StrEnum):
    """What a door asks for. Each door maps its requests onto these (docs/security.md)."""

    ENTER = "enter"  # join the room (Socket.IO ``join``)
    PUBLISH = "publish"  # send media (Socket.IO ``publish``, WHIP)
    SUBSCRIBE = "subscribe"  # receive media (Socket.IO ``subscribe``, WHEP)
    POST = "post"  # chat, reactions, questions, votes
    READ = "read"  # chat history and other room content for members
    HAND = "hand"  # raise or lower a hand
    MODERATE = "moderate"  # stage, mute, remove, lock, close, delete chat, answer questions
    ADMIT = "admit"  # the waiting room: admit or deny a guest
    HOST = "host"  # the host's desk: product cards, quote requests, going live
    QUOTE = "quote"  # ask for a quote on a product card
    SELF = "self"  # one's own presence: display name, camera/mic state, answer a stage invitation
    RECORD = "record"  # start or stop the room's recording (issue 15 §3)
    CONSENT = "consent"  # agree or decline to a meeting's recording (a participant present)
    WATCH = "watch"  # a recording's replay and files: decide_replay, on the record
    # (live HLS, issue 16 §3: decide_hls for a GET under /hls/, decide_hls_link for the link)
    MANAGE = "manage"  # rename, publish/unpublish, delete a recording: decide_replay
    # issue 17: publish into a language channel (Socket.IO ``publish {channel}``, WHIP
    # ``?channel=``), hand it over, take it, cough-mute it: decide_channel
    INTERPRET = "interpret"


# The grant each action needs. ENTER through a media door needs that door's grant instead of
# ``join`` (an OBS token carries ``publish``), see :func:`entry_grant`. Publishing needs no
# grant once present: the stage decides (a moderator promotes a viewer whose token has none;
# a token with ``publish`` but not on stage may not send).
GRANTS: dict[Action, Grant | None] = {
    Action.ENTER: Grant.JOIN,
    Action.PUBLISH: None,
    Action.SUBSCRIBE: Grant.SUBSCRIBE,
    Action.POST: Grant.CHAT,
    Action.READ: Grant.JOIN,
    Action.HAND: Grant.JOIN,
    Action.MODERATE: Grant.MODERATE,
    Action.QUOTE: Grant.JOIN,
    Action.SELF: Grant.JOIN,
    Action.CONSENT: Grant.JOIN,
    Action.INTERPRET: Grant.INTERPRET,
}
# Actions that act on the caller's own presence: refused without it, and in the waiting room.
PRESENT = frozenset({Action.PUBLISH, Action.SUBSCRIBE, Action.POST, Action.READ, Action.HAND,
                     Action.QUOTE, Action.SELF, Action.CONSENT, Action.INTERPRET})


@dataclass(frozen=True, slots=True)
class Facts:
    """What the decision reads, gathered from the Store by RoomService (or built by a test)."""

    room: Room
    me: Participant | None  # the caller's presence in this room, if any
    banned: bool
    now: float


def decide(token: AccessToken, action: Action, facts: Facts) -> None:
    """Allow ``action`` by someone already in the room (or by staff acting on it), or raise
    :class:`NotAllowed` saying why not. Entering is :func:`decide_entry`."""
    check_covers(token, facts.room)
    _check_grant(token, action, facts.room)
    _common(facts)
    if action in PRESENT:
        _check_present(action, facts.room, facts.me)


def decide_channel(token: AccessToken, facts: Facts, language: str) -> None:
    """Issue 17: may the caller work the ``language`` channel (publish into it, hand it over,
    take it, cough-mute it)? The ``interpret`` grant, presence, and an interpreter's record
    whose ``languages`` hold ``language`` (a non-interpreter: ``not_allowed``)."""
    decide(token, Action.INTERPRET, facts)
    assert facts.me is not None  # decide() checked presence
    policy.check_can_interpret(facts.me, language)


def decide_entry(token: AccessToken, facts: Facts, door: Action = Action.ENTER) -> None:
    """Allow the caller to become present through ``door`` (a Socket.IO join: ``ENTER``; WHIP:
    ``PUBLISH``, or ``INTERPRET`` into a channel; WHEP: ``SUBSCRIBE``), or raise
    :class:`NotAllowed`.

    Newcomers meet the schedule and the lock (staff pass both); everyone meets the meeting's
    invitation. Someone already present (a second tab, OBS beside the studio page, a reconnect)
    passes the lock, which bars newcomers only.
    """
    room, me = facts.room, facts.me
    check_covers(token, room)
    _check_grant(token, door, room, entering=True)
    _common(facts)
    role = me.role if me is not None else policy.role_for(room, token)
    if me is None or room.kind is RoomKind.MEETING:
        policy.check_open(room, role, facts.now)
    policy.check_invited(room, token, role)


def _common(facts: Facts) -> None:
    if facts.banned:
        raise NotAllowed("banned", "you were removed from this room")
    if facts.room.state is RoomState.ENDED:
        raise NotAllowed("room_ended", "the room has ended")


def check_covers(token: AccessToken, room: Room) -> None:
    """The token was issued for this room (or for every room: ``*``, an organiser's)."""
    if token.room not in (room.id, "*"):
        raise NotAllowed("wrong_room", "the token is for another room")


def entry_grant(action: Action) -> Grant:
    """The grant that lets someone enter through ``action``'s door."""
    return {Action.PUBLISH: Grant.PUBLISH, Action.SUBSCRIBE: Grant.SUBSCRIBE,
            Action.INTERPRET: Grant.INTERPRET}.get(action, Grant.JOIN)


def _check_grant(token: AccessToken, action: Action, room: Room, *,
                 entering: bool = False) -> None:
    if action is Action.RECORD:
        _check_recorder(token, room)
        return
    if action in (Action.ADMIT, Action.HOST):  # the room's own exhibitor, or a moderator
        if token.identity != room.exhibitor and not token.allows(Grant.MODERATE):
            code = "not_moderator" if action is Action.ADMIT else "not_host"
            raise NotAllowed(code, "only the host or a moderator may do that")
        return
    grant = entry_grant(action) if entering else GRANTS[action]
    if grant is not None and not token.allows(grant):
        raise NotAllowed(_MISSING.get(grant, "missing_grant"),
                         f"your token does not allow {grant.value}")


def _check_recorder(token: AccessToken, room: Room) -> None:
    """Issue 15 §3: a ``recorder`` token of the room; a moderator; a broadcast's or meeting's
    exhibitor (a forum is the moderators'). A meeting also needs everyone's consent: the
    recordings desk asks for it, the gate only says who may ask."""
    if token.allows(Grant.RECORDER) or token.allows(Grant.MODERATE):
        return
    if room.kind is not RoomKind.FORUM and room.exhibitor and token.identity == room.exhibitor:
        return
    raise NotAllowed("not_recorder", "only the host or a moderator may record this room")


def decide_replay(token: AccessToken | None, action: Action, room: Room,
                  recording: Recording) -> None:
    """May this caller (``None``: no token) watch or manage ``recording`` of ``room``?

    Issue 15 §3. Watch: a published recording of a public room (broadcast, forum) is anyone's;
    otherwise the room's exhibitor and moderators; a meeting's only the organiser's (a ``*``
    token with ``moderate``; the admin API acts as one). Manage (rename, publish, delete): the
    room's exhibitor, its moderators, the organiser. An ended room still has its replays, so
    the room's state does not count here, only who the caller is.
    """
    if action is Action.WATCH and recording.published and room.kind is not RoomKind.MEETING:
        return
    if token is None:
        raise NotAllowed("token_missing", "this recording is not public")
    check_covers(token, room)
    organiser = token.room == "*" and token.allows(Grant.MODERATE)
    staff = token.allows(Grant.MODERATE) or (bool(room.exhibitor)
                                              and token.identity == room.exhibitor)
    if action is Action.WATCH and room.kind is RoomKind.MEETING:
        staff = organiser
    if not staff:
        raise NotAllowed("not_allowed", "you may not open this recording")


# Room kinds whose live HLS anyone may fetch without a link while the room is open to newcomers
# (the kinds a page mints visitor tokens for: web/page_access.py).
OPEN_HLS_KINDS = frozenset({RoomKind.BROADCAST, RoomKind.FORUM})


def decide_hls(room: Room, *, linked: bool) -> None:
    """May a GET under ``/hls/{room}/`` (issue 16 §3, docs/hls.md §4) be answered?

    ``linked``: the request carries a valid signed link for this room (the door checked its
    HMAC and expiry). Such a link is minted only after :func:`decide_hls_link` said yes to a
    token, so it opens the room's HLS whatever its state until it expires. Without one: a
    public kind (broadcast, forum) that is live and unlocked, or that has ended (its last
    playlist carries ``EXT-X-ENDLIST``, which ends players cleanly; whether it still exists
    is the feed's business: 404). A scheduled room (a rehearsal) and a locked one bar the
    anonymous public, as they bar newcomers at the other doors; a meeting is never open.
    """
    if linked:
        return
    if room.kind not in OPEN_HLS_KINDS:
        raise NotAllowed("link_required", "this room's stream needs a link from its page")
    if room.state is RoomState.SCHEDULED:
        raise NotAllowed("not_started", "the room has not started yet")
    if room.locked and room.state is RoomState.LIVE:
        raise NotAllowed("room_locked", "the room is locked")


def decide_hls_link(token: AccessToken, facts: Facts) -> None:
    """May ``token``'s holder get a signed link to the room's live HLS (issue 16 §3)?

    The same answer as receiving the room's media over WHEP: entering with ``subscribe``
    (grant, ban, end, schedule, lock, invitation), and, in a meeting, admitted from the
    waiting room (present and not waiting)."""
    decide_entry(token, facts, Action.SUBSCRIBE)
    if facts.room.kind is RoomKind.MEETING:
        _check_present(Action.SUBSCRIBE, facts.room, facts.me)


def decide_hls_viewer(facts: Facts) -> None:
    """May the identity a signed HLS link was minted for still reload the room's playlists
    (issue 16 §3)? Asked on every playlist request of a signed link, never on segments and
    parts (immutable, cacheable: a removed viewer's player stops at its next reload anyway).

    ``facts`` are the link identity's, gathered as for :func:`decide` (RoomService facts).
    A ban (``participant.remove``, the admin API's kick) refuses at once. The room's end does
    not: its final playlist carries ``EXT-X-ENDLIST``, which stops every player cleanly, and
    nothing more is packaged after it. The lock bars newcomers only, and a link's holder was
    let in when it was minted (:func:`decide_hls_link`), as someone present passes the lock.
    """
    if facts.banned:
        raise NotAllowed("banned", "you were removed from this room")


def hls_open(room: Room) -> bool:
    """Whether the public may fetch the room's HLS without a link right now (pages hand out
    the plain URL then: one URL for every viewer, so a CDN caches it once)."""
    try:
        decide_hls(room, linked=False)
    except NotAllowed:
        return False
    return room.state is RoomState.LIVE


_MISSING = {Grant.JOIN: "no_join_grant", Grant.CHAT: "no_chat_grant",
            Grant.MODERATE: "not_moderator", Grant.PUBLISH: "no_publish_grant",
            Grant.SUBSCRIBE: "no_subscribe_grant", Grant.INTERPRET: "not_allowed"}


def _check_present(action: Action, room: Room, me: Participant | None) -> None:
    if me is None:
        raise NotAllowed("not_in_room", "join the room first")
    if me.waiting:
        raise NotAllowed("in_waiting_room", "wait for the host to admit you")
    if action is Action.POST and me.muted:
        raise NotAllowed("muted", "you have been muted")
    if action is Action.PUBLISH:
        policy.check_can_publish(room, me)


def decide_console(token: AccessToken, facts: Facts) -> None:
    """May ``token``'s holder open the interpreter console of the room (issue 17 §8,
    ``GET /interpret/{room}``)?

    The token covers the room and carries ``interpret``; the caller is not banned and the room
    has not ended; the room is a forum or a meeting (interpreters work there, not in a
    one-way broadcast). The schedule and the lock do not bar the console: interpreters, like
    speakers, set up before the doors open. What they may then do in the room (join, publish
    into their channel) is asked again by each event (decide, decide_entry)."""
    check_covers(token, facts.room)
    if not token.allows(Grant.INTERPRET):
        raise NotAllowed("missing_grant", "your token does not allow interpret")
    _common(facts)
    if facts.room.kind not in policy.INTERPRETED_KINDS:
        raise NotAllowed("not_allowed", "interpretation is for forums and meetings")


def decide_organiser_console(token: AccessToken) -> None:
    """May ``token``'s holder open the organiser's console (issue 18 §2, ``GET /console``, the
    Socket.IO namespace ``/console``) and act from it (kick, mute, close any room)?

    Only the organiser: a token for every room (``*``) with ``moderate``, as the admin API
    acts. A room's own moderator, host or interpreter, and a ``*`` token without ``moderate``
    (a delegate's, an exhibitor's), are refused. Each action then asks the room's gate again
    (RoomService checks ``moderate`` and the room's state, as for the admin API)."""
    if token.room != "*":
        raise NotAllowed("not_organiser", "the console is for the organiser (a token for every "
                         "room)")
    if not token.allows(Grant.MODERATE):
        raise NotAllowed("not_organiser", "the console needs the moderate grant")
