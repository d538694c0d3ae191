"""The wire vocabulary of namespace ``/rtc``: one frozen dataclass per client event (pure).

:data:`CLIENT_EVENTS` maps each event a browser may send to its message type; :data:`SERVER_EVENTS`
names every event the server emits. docs/protocol.md documents both, and a test checks that every
name here appears there. Field specs only check shape (type, length, range); what a value means
(a room id's syntax, chat content rules, who may do what) is decided by :mod:`rooms`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config import LANGUAGES, MediaLimits
from signaling.errors import SignalingError
from signaling.schema import Choice, Flag, Integer, Text, spec

ROOM = spec(Text(64))
IDENTITY = spec(Text(128))
PEER = spec(Text(64))
SDP = spec(Text(10_000_000))  # the real caps (MediaLimits) are checked by check_sdp
USER_TEXT = spec(Text(100_000))  # the real caps (SignalingLimits) are checked by rooms
CHAT_ID = spec(Text(40))
MAX_TILE_PX = 16_384  # a tile's side in device pixels: above any screen, below nonsense


@dataclass(frozen=True, slots=True)
class RoomRef:
    """``leave``, ``hand.raise``, ``hand.lower``, ``room.close``: only the room."""

    room: str = field(metadata=ROOM)


@dataclass(frozen=True, slots=True)
class Join:
    room: str = field(metadata=ROOM)
    name: str | None = field(default=None, metadata=spec(Text(64), nullable=True))
    language: str = field(default="en", metadata=spec(Choice(LANGUAGES)))
    after: str | None = field(default=None, metadata=spec(Text(40), nullable=True))


@dataclass(frozen=True, slots=True)
class Publish:
    """``channel``: an interpreter's audio into that language's channel (issue 17)."""

    room: str = field(metadata=ROOM)
    sdp: str = field(metadata=SDP)
    channel: str | None = field(default=None, metadata=spec(Choice(LANGUAGES), nullable=True))


@dataclass(frozen=True, slots=True)
class PeerRef:
    """``unpublish`` and ``unsubscribe``: one of the caller's media peers."""

    room: str = field(metadata=ROOM)
    peer: str = field(metadata=PEER)


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Receive the track ``source``, or every live track of ``participant``, or (neither given)
    the room's latest audio and video. Without ``sdp`` the server offers (the sender of media
    is the offerer) and the viewer answers with ``answer``; with ``sdp`` (the viewer's own
    recvonly offer) the server answers at once, WHEP-like, with the same choice of tracks."""

    room: str = field(metadata=ROOM)
    source: str | None = field(default=None, metadata=spec(Text(128), nullable=True))
    participant: str | None = field(default=None, metadata=spec(Text(128), nullable=True))
    sdp: str | None = field(default=None, metadata=spec(Text(10_000_000), nullable=True))
    # issue 17: that language channel's audio, one stable track whoever interprets
    channel: str | None = field(default=None, metadata=spec(Choice(LANGUAGES), nullable=True))


@dataclass(frozen=True, slots=True)
class Answer:
    room: str = field(metadata=ROOM)
    peer: str = field(metadata=PEER)
    sdp: str = field(metadata=SDP)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One trickled ICE candidate (RFC 8838); ``candidate: null`` means end of candidates."""

    room: str = field(metadata=ROOM)
    peer: str = field(metadata=PEER)
    candidate: str | None = field(metadata=spec(Text(1_024, min_chars=0), nullable=True))
    sdp_mid: str | None = field(default=None, metadata=spec(Text(64, min_chars=0), nullable=True))
    sdp_mline_index: int | None = field(default=None,
                                        metadata=spec(Integer(0, 64), nullable=True))


@dataclass(frozen=True, slots=True)
class View:
    """``view``: what the page shows of one subscribed peer's video (issue 14 §2b): its tile's
    rendered size in device pixels (0: unknown) and whether it is visible at all. The media
    plane caps the viewer's layer by it and pauses an invisible tile's video (audio goes on).
    The ceiling is far above any screen (8K is 7680 wide) and keeps nonsense out."""

    room: str = field(metadata=ROOM)
    peer: str = field(metadata=PEER)
    width: int = field(metadata=spec(Integer(0, MAX_TILE_PX)))
    height: int = field(metadata=spec(Integer(0, MAX_TILE_PX)))
    visible: bool = field(default=True, metadata=spec(Flag()))


@dataclass(frozen=True, slots=True)
class ChatSend:
    room: str = field(metadata=ROOM)
    text: str = field(metadata=USER_TEXT)


@dataclass(frozen=True, slots=True)
class ChatHistory:
    """A page of chat: the ``limit`` messages before ``before`` (or the latest), or, with
    ``after``, the first ``limit`` messages after it (to catch up after a reconnect)."""

    room: str = field(metadata=ROOM)
    before: str | None = field(default=None, metadata=spec(Text(40), nullable=True))
    after: str | None = field(default=None, metadata=spec(Text(40), nullable=True))
    limit: int = field(default=50, metadata=spec(Integer(1, 100)))


@dataclass(frozen=True, slots=True)
class Reaction:
    room: str = field(metadata=ROOM)
    kind: str = field(metadata=spec(Text(32)))


@dataclass(frozen=True, slots=True)
class QuestionAsk:
    room: str = field(metadata=ROOM)
    text: str = field(metadata=USER_TEXT)


@dataclass(frozen=True, slots=True)
class QuestionRef:
    room: str = field(metadata=ROOM)
    question: str = field(metadata=spec(Text(64)))


@dataclass(frozen=True, slots=True)
class Target:
    """Moderation aimed at one participant: promote, demote, remove, admit, deny."""

    room: str = field(metadata=ROOM)
    identity: str = field(metadata=IDENTITY)


@dataclass(frozen=True, slots=True)
class Mute:
    room: str = field(metadata=ROOM)
    identity: str = field(metadata=IDENTITY)
    muted: bool = field(default=True, metadata=spec(Flag()))


@dataclass(frozen=True, slots=True)
class NameSet:
    """``name.set``: my display name in the room (rooms/text.py ``display_name`` decides)."""

    room: str = field(metadata=ROOM)
    name: str = field(metadata=spec(Text(256, min_chars=0)))


@dataclass(frozen=True, slots=True)
class MediaState:
    """``media.state``: a speaker's own microphone / camera turned off or on (omitted: as is)."""

    room: str = field(metadata=ROOM)
    audio_off: bool | None = field(default=None, metadata=spec(Flag(), nullable=True))
    video_off: bool | None = field(default=None, metadata=spec(Flag(), nullable=True))


@dataclass(frozen=True, slots=True)
class ChatRef:
    room: str = field(metadata=ROOM)
    message: str = field(metadata=CHAT_ID)


@dataclass(frozen=True, slots=True)
class Lock:
    room: str = field(metadata=ROOM)
    locked: bool = field(default=True, metadata=spec(Flag()))


@dataclass(frozen=True, slots=True)
class ConsentAnswer:
    """``record.consent``: a meeting participant agrees (or not) to being recorded."""

    room: str = field(metadata=ROOM)
    agree: bool = field(metadata=spec(Flag()))


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """``channel.handover`` and ``channel.accept``: one language channel of a room."""

    room: str = field(metadata=ROOM)
    language: str = field(metadata=spec(Choice(LANGUAGES)))


@dataclass(frozen=True, slots=True)
class ChannelMute:
    """``channel.mute``: the cough button (``muted`` true) and its release."""

    room: str = field(metadata=ROOM)
    language: str = field(metadata=spec(Choice(LANGUAGES)))
    muted: bool = field(metadata=spec(Flag()))


@dataclass(frozen=True, slots=True)
class ProductRef:
    room: str = field(metadata=ROOM)
    product: str = field(metadata=spec(Text(64)))


Message = (RoomRef | Join | Publish | PeerRef | Subscribe | Answer | Candidate | View | ChatSend
           | ChatHistory | Reaction | QuestionAsk | QuestionRef | Target | Mute | ChatRef | Lock
           | ProductRef | NameSet | MediaState | ConsentAnswer | ChannelRef | ChannelMute)

CLIENT_EVENTS: dict[str, type[Any]] = {
    "join": Join,
    "leave": RoomRef,
    "publish": Publish,
    "unpublish": PeerRef,
    "subscribe": Subscribe,
    "answer": Answer,
    "unsubscribe": PeerRef,
    "candidate": Candidate,
    "view": View,
    "chat.send": ChatSend,
    "chat.history": ChatHistory,
    "reaction": Reaction,
    "hand.raise": RoomRef,
    "hand.lower": RoomRef,
    "question.ask": QuestionAsk,
    "question.vote": QuestionRef,
    "stage.promote": Target,
    "stage.demote": Target,
    "stage.accept": RoomRef,
    "stage.decline": RoomRef,
    "stage.leave": RoomRef,
    "media.state": MediaState,
    "name.set": NameSet,
    "track.mute": Mute,
    "participant.remove": Target,
    "chat.delete": ChatRef,
    "waiting.admit": Target,
    "waiting.deny": Target,
    "room.lock": Lock,
    "room.close": RoomRef,
    "product.pin": ProductRef,
    "product.unpin": ProductRef,
    "record.start": RoomRef,  # issue 15 §4: signaling/record_events.py
    "record.stop": RoomRef,
    "record.consent": ConsentAnswer,
    "channel.handover": ChannelRef,  # issue 17: signaling/interpretation.py
    "channel.accept": ChannelRef,
    "channel.mute": ChannelMute,
}

SERVER_EVENTS: tuple[str, ...] = (
    "session",
    "batch",
    "participant.joined",
    "participant.left",
    "participant.changed",
    "participant.muted",
    "participant.removed",
    "presence.sync",  # signaling/presence_sync.py: after the node's pub/sub listener was away
    "track.published",
    "track.unpublished",
    "speaker.changed",  # issue 14 §5: the room's active speaker, from RFC 6464 audio levels
    "media.quality",  # issue 14 §2-3: to the viewer's session only, what one of its peers gets
    "publish.layers",  # issue 14 §4: to the publisher's session only, the layers to keep sending
    "chat.message",
    "chat.deleted",
    "reactions",
    "hand.raised",
    "hand.lowered",
    "stage.changed",
    "stage.invited",
    "stage.declined",
    "stage.invitation_lapsed",  # the hub's sweep (Hub.lapse_invitations): staff and the person
    "question.asked",
    "question.voted",
    "question.answered",  # emitted by web/page_api.py (the host marks a question answered)
    "quote.requested",  # emitted by web/page_api.py to staff (a visitor asks for a quote)
    "quote.replied",  # web/page_api.py, to staff and the buyer's user:<identity> (issue 12)
    "quote.withdrawn",  # web/page_api.py, to staff and the buyer's user:<identity>
    "product.updated",  # web/page_api.py, to the room: a card edited (name, picture...)
    "product.deleted",  # web/page_api.py, to the room: a card removed
    "waiting.knock",
    "waiting.admitted",
    "waiting.denied",
    "product.pinned",
    "product.unpinned",
    "room.changed",
    "room.closed",
    "room.recording",  # issue 15 §4: the room is (no longer) being recorded
    "record.consent_asked",  # a meeting's host asked to record: to the room, and to newcomers
    "record.consent_changed",  # who agreed, who has not answered yet
    "channels.changed",  # issue 17: the room's channels (signaling/interpretation.py)
    "channel.handover_offered",  # issue 17: to the live interpreter's booth partners
    "node.draining",  # issue 13: this node is leaving (signaling/hub.py, web/drain.py)
    "nodes",  # issue 13: the other live nodes changed (Hub.see_nodes): the failover list
    # Trade-meeting notices (rooms/trade/service.py, rooms/trade/agenda.py), pushed by
    # web/meetings_notifier.py to ``user:<identity>``: every page of that person.
    "meeting.reminder",
    "meeting.ending",
    "meeting.ended",
    "request.created",
    "request.accepted",
    "request.declined",
    "request.proposed",
    "request.withdrawn",
    "request.cancelled",
    "request.expired",
)


def check_sdp(sdp: str, limits: MediaLimits) -> str:
    """Refuse an SDP over the byte or line caps (DESIGN.md §6) before any parser sees it."""
    if len(sdp.encode("utf-8", "surrogatepass")) > limits.max_sdp_bytes:
        raise SignalingError("sdp_too_large", f"SDP is larger than {limits.max_sdp_bytes} bytes")
    if sdp.count("\n") + 1 > limits.max_sdp_lines:
        raise SignalingError("sdp_too_many_lines",
                             f"SDP has more than {limits.max_sdp_lines} lines")
    if "\x00" in sdp:
        raise SignalingError("bad_offer", "SDP contains a NUL character")
    return sdp
