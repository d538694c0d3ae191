"""Interpretation channels (issue 17): per room, one audio Source per target language.

An interpreter publishes like anyone (a :class:`~streaming.publisher.PublisherLeg`), but into a
channel: their track becomes their own Source, tagged ``booth = language`` (their booth partners
may subscribe to it; it is never the floor, never an active speaker, never a tile). Each channel
is one more Source, ``channel:<language>``, tagged ``language``, that listeners subscribe to. The
live interpreter's Source feeds it through a :class:`~streaming.tap.PacketTap`: one packet in,
the same packet forwarded to the channel's viewers, no decoding and no mixing (DESIGN.md §3).

A handover moves the tap from one interpreter's Source to another's; the channel Source then
sees a new SSRC and its viewers' forwarders rebase (:meth:`streaming.source.Source._switch`):
sequence numbers go on by one, timestamps by the time that passed (RFC 3550 §5.1), so the
listener keeps one track with no renegotiation. A mute (the cough button) drops packets; the
next one after it is rebased the same way, so the silence is a pause in time, not a jump.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from config import MediaLimits
from streaming.errors import MediaError
from streaming.rtp_header import RtpHeader
from streaming.source import Source

logger = logging.getLogger(__name__)
CHANNEL_PREFIX = "channel:"
# A channel's name in its own language: HLS ``NAME`` (RFC 8216 §4.4.6.1), what a player lists
NATIVE_NAMES = {"zh": "中文", "en": "English", "ja": "日本語", "ko": "한국어", "ru": "Русский",
                "mn": "Монгол"}


def channel_id(language: str) -> str:
    """The source id of ``language``'s channel (no ``/``: no participant owns it)."""
    return CHANNEL_PREFIX + language


def channel_language(source_id: str) -> str | None:
    """The language of a channel's source id (or a recorder's participant key), else None."""
    return source_id[len(CHANNEL_PREFIX):] if source_id.startswith(CHANNEL_PREFIX) else None


class NotInBooth(MediaError):
    """A handover to someone who sends nothing into that channel (nothing to switch to)."""


@dataclass(frozen=True, slots=True)
class ChannelChanged:
    """A channel's live interpreter, mute or existence changed (``channels.changed``)."""

    room: str
    language: str


@dataclass(frozen=True, slots=True)
class ChannelState:
    """What the plane knows of one channel: who is on air, muted, how many listen."""

    language: str
    live: str | None
    muted: bool
    feeding: tuple[str, ...]  # interpreters whose audio reaches this booth, publish order
    listeners: int


class _Feed:
    """The tap on the live interpreter's Source: its packets go on into the channel."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._loop = asyncio.get_running_loop()

    def on_rtp(self, data: bytes, h: RtpHeader) -> None:
        channel = self.channel
        if not channel.muted and not channel.source.ended.is_set():
            channel.source.relay_rtp(data, h, self._loop.time())

    def on_sender_report(self, ntp: int, rtp_ts: int) -> None:
        channel = self.channel
        if not channel.muted and not channel.source.ended.is_set():
            channel.source.on_sender_report(ntp, rtp_ts)

    def on_end(self) -> None:
        """The interpreter's Source ended: :meth:`Booths.unfed` picks who goes on."""


class Channel:
    """One language's channel in one room: its Source and the Sources that may feed it."""

    def __init__(self, room: str, language: str, source: Source) -> None:
        self.room = room
        self.language = language
        self.source = source
        self.feeds: dict[str, Source] = {}  # interpreter -> their own Source
        self.live: str | None = None
        self.muted = False
        self.feed = _Feed(self)

    def go_live(self, identity: str | None) -> None:
        """Feed the channel from ``identity``'s Source (None: nobody), from its next packet."""
        old = self.feeds.get(self.live) if self.live is not None else None
        if old is not None:
            old.remove_tap(self.feed)
        self.live = identity
        new = self.feeds.get(identity) if identity is not None else None
        if new is not None and not new.ended.is_set():
            self.source.set_extension_ids(new.extension_ids)
            self.source.restart_stream()
            new.add_tap(self.feed)

    def set_muted(self, muted: bool) -> None:
        if self.muted and not muted:
            self.source.restart_stream()  # the silence is a pause: timestamps move on
        self.muted = muted

    def state(self) -> ChannelState:
        return ChannelState(self.language, self.live, self.muted, tuple(self.feeds),
                            len(self.source.subscriptions))


SourceHook = Callable[[Source], None]


class Booths:
    """Every channel of this node, keyed by (room, language), and who publishes into which.

    ``added``/``ended`` register a channel's Source with the plane and end it there;
    ``emit`` reports :class:`ChannelChanged`. Pure bookkeeping on the loop: no I/O."""

    def __init__(self, limits: MediaLimits, added: SourceHook, ended: SourceHook,
                 emit: Callable[[ChannelChanged], None]) -> None:
        self.limits = limits
        self.channels: dict[tuple[str, str], Channel] = {}
        self._assigned: dict[tuple[str, str], str] = {}  # (room, identity) -> language
        self._added, self._ended, self._emit = added, ended, emit

    def assign(self, room: str, identity: str, language: str | None) -> None:
        """``identity``'s next publish in ``room`` goes into ``language`` (None: the floor)."""
        if language is None:
            self._assigned.pop((room, identity), None)
        else:
            self._assigned[(room, identity)] = language

    def language_of(self, room: str, identity: str) -> str | None:
        return self._assigned.get((room, identity))

    def fed(self, source: Source, identity: str) -> None:
        """An interpreter's track appeared (or was taken over by their new leg)."""
        language = self._assigned.get((source.room, identity))
        if language is None:
            return
        if source.kind != "audio" or source.codec.name != "opus":
            # the doors refuse video offers; another audio codec cannot join Opus listeners
            logger.warning("%s sends %s %s: a channel carries Opus audio only", identity,
                           source.kind, source.codec.name)
            return
        if source.booth is not None and source.booth != language:
            self.unfed(source, identity)  # the interpreter turned to the other language
        source.booth = language
        channel = self._channel(source, language)
        channel.feeds[identity] = source
        if channel.live is None or channel.live == identity:
            channel.go_live(identity)
        self._emit(ChannelChanged(source.room, language))

    def _channel(self, fed_by: Source, language: str) -> Channel:
        key = (fed_by.room, language)
        channel = self.channels.get(key)
        if channel is None or channel.source.ended.is_set():
            source = Source(channel_id(language), fed_by.room, "audio", fed_by.codec,
                            self.limits)
            source.language = language
            channel = self.channels[key] = Channel(fed_by.room, language, source)
            self._added(source)
        return channel

    def unfed(self, source: Source, identity: str) -> None:
        """An interpreter's Source ended (they left, or turned to another channel): a partner
        still sending goes on air; a channel nobody feeds ends (its listeners get a BYE)."""
        language = source.booth
        channel = self.channels.get((source.room, language)) if language else None
        if channel is None or channel.feeds.get(identity) is not source:
            return
        source.remove_tap(channel.feed)
        del channel.feeds[identity]
        if self._assigned.get((source.room, identity)) == language:
            del self._assigned[(source.room, identity)]  # the next publish assigns again
        if channel.live == identity:
            channel.live = None
            channel.go_live(next(iter(channel.feeds), None))
        if not channel.feeds:
            del self.channels[(source.room, channel.language)]
            self._ended(channel.source)
        self._emit(ChannelChanged(source.room, channel.language))

    def hand_to(self, room: str, language: str, identity: str) -> None:
        """``identity`` takes ``language``'s channel on air (``channel.accept``)."""
        channel = self.channels.get((room, language))
        if channel is None or identity not in channel.feeds:
            raise NotInBooth(f"{identity[:64]!r} sends no audio into the {language} channel")
        if channel.live != identity:
            channel.go_live(identity)
            self._emit(ChannelChanged(room, language))

    def mute(self, room: str, language: str, muted: bool) -> None:
        channel = self.channels.get((room, language))
        if channel is None:
            raise NotInBooth(f"nobody interprets into {language} here")
        if channel.muted != muted:
            channel.set_muted(muted)
            self._emit(ChannelChanged(room, language))

    def states(self, room: str) -> dict[str, ChannelState]:
        """The room's channels on this node, by language."""
        return {lang: ch.state() for (r, lang), ch in self.channels.items() if r == room}

    def forget(self, room: str, identity: str) -> None:
        """``identity`` left ``room``: their next publish there is no channel's."""
        self._assigned.pop((room, identity), None)
