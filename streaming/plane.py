"""MediaPlane: the facade the signalling layer calls (WHIP/WHEP today, Socket.IO later).

It owns every peer and every Source of the node, keyed by room. A publisher that publishes
again into the same room while its previous leg still exists takes over that leg's Sources, so
viewers see one continuous stream (the Forwarder rebases); a publisher that leaves ends its
Sources and every viewer's track ends with an RTCP BYE. Events (a Source appeared or ended)
go to listeners registered with :meth:`MediaPlane.listen`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from config import IceServer, MediaLimits, log_context
from streaming import aiortc_hooks, send_backend, srtp_protection
from streaming.adaptation import Reason, TileView
from streaming.allocator import Allocator
from streaming.channels import (
    CHANNEL_PREFIX,
    Booths,
    ChannelChanged,
    ChannelState,
    ListenersChanged,
    channel_id,
)
from streaming.errors import (
    Capacity,
    NothingPublished,
    PlaneClosed,
    TcpPortUnavailable,
    UnknownPeer,
    UnknownRecording,
)
from streaming.frames import Depacketizer
from streaming.hls.archive import Archived
from streaming.hls.feed import HlsFeed
from streaming.hls.packager import HlsPackager
from streaming.hls.spec import HlsSpec
from streaming.intake import IntakeLeg
from streaming.local_publisher import LocalPublisher
from streaming.negotiation import Codec
from streaming.offer_check import screen
from streaming.peer import CLOSE_TIMEOUT_S, Peer
from streaming.publisher import PublisherLeg
from streaming.recorder import Recording
from streaming.recording_spec import RecordedFile, RecordingEnded, RecordingSpec
from streaming.source import Source
from streaming.speaker import SpeakerChange, SpeakerRules
from streaming.speaker_watch import SpeakerWatch
from streaming.stats import PlaneStats, Tally
from streaming.tcp_mux import TcpMux
from streaming.transport_guard import ForeignCounts
from streaming.udp_mux import UdpMux
from streaming.upstream import UpstreamLeg
from streaming.viewer import ViewerLeg
from streaming.viewer_adapt import Quality

logger = logging.getLogger(__name__)
MUX_AGENTS = 50_000  # ICE agents the one UDP port may hold (well above a node's peers)
HLS_KEEP_S = 600.0  # an ended HLS feed stays servable this long (issue 16 §5: the replay's start)


@dataclass(frozen=True, slots=True)
class SourceAdded:
    """``relayed``: pulled from the room's origin by this edge, not published here: the
    room's track list stays the origin's (signaling/media_link.py ignores it)."""

    room: str
    participant: str
    source_id: str
    kind: str
    codec: str
    relayed: bool = False
    interpretation: bool = False  # a channel's or an interpreter's (issue 17): no room track


@dataclass(frozen=True, slots=True)
class SourceEnded:
    room: str
    participant: str
    source_id: str
    kind: str
    relayed: bool = False
    interpretation: bool = False


@dataclass(frozen=True, slots=True)
class PeerEnded:
    """A negotiated peer left the plane (closed, or its connection failed)."""

    room: str
    participant: str
    peer_id: str


@dataclass(frozen=True, slots=True)
class SpeakerChanged:
    """The room's active speaker changed (issue 14 §5): ``participant`` is speaking now, or
    nobody (``None``); ``level`` the loudest level they sent lately, in -dBov (RFC 6464)."""

    room: str
    participant: str | None
    level: int | None


@dataclass(frozen=True, slots=True)
class QualityChanged:
    """What one viewer peer now receives of one video track (issue 14 §2-3): the layer's rid
    (``None``: no video, audio goes on), its size where known (else 0), and why."""

    room: str
    participant: str  # the viewer
    peer_id: str  # the viewer's peer
    source_id: str
    layer: str | None
    width: int
    height: int
    reason: Reason


@dataclass(frozen=True, slots=True)
class LayersWanted:
    """The layers of a publisher's simulcast track that someone watches (issue 14 §4): the
    publisher may pause the others (dynacast). Sent when the set changes."""

    room: str
    participant: str  # the publisher
    peer_id: str  # the publisher's peer
    source_id: str
    active: tuple[str, ...]  # rids to keep sending


MediaEvent = (
    SourceAdded | SourceEnded | PeerEnded | SpeakerChanged | QualityChanged | LayersWanted
    | RecordingEnded | Archived | ChannelChanged | ListenersChanged
)


def default_depacketizer(codec: str) -> Depacketizer:
    """The depacketizer of ``codec`` (vp8, h264, opus) from :mod:`streaming.depacketize`."""
    from streaming.depacketize import for_codec  # the recordings are its only user

    return for_codec(codec)


@dataclass(frozen=True, slots=True)
class Answer:
    """A negotiated peer: its id (for trickle and close) and the SDP answer."""

    peer_id: str
    sdp: str


class MediaPlane:
    """Every peer and Source of this node.

    ``ice_servers`` are what clients are told to use (WHIP ``Link`` headers, Socket.IO); the
    node's own peers gather host candidates only, so a start never waits on a STUN server.
    """

    def __init__(self, limits: MediaLimits, ice_servers: Sequence[IceServer] = (),
                 max_recordings: int = 64, max_hls: int = 32) -> None:
        aiortc_hooks.check()
        # issue 19 §2: how the fan-out sends, chosen (and logged) once at start-up
        self.send_backend = send_backend.choose(limits.send_backend).name
        self.srtp_backend = srtp_protection.announce(limits.srtp_backend)
        self.max_recordings = max_recordings  # RecordingSettings.max_per_node
        self.max_hls = max_hls  # HlsSettings.max_per_node
        self.packagers: dict[str, HlsPackager] = {}  # room -> its live HLS
        self._ended_hls: dict[str, tuple[HlsPackager, asyncio.TimerHandle]] = {}
        self.recordings: dict[str, Recording] = {}  # rec id -> running recording
        self.depacketizers: Callable[[str], Depacketizer] = default_depacketizer
        self.limits = limits
        # issue 19: every peer on one UDP port (streaming/udp_mux.py), or a socket per peer
        self.mux = (UdpMux(limits.udp_port, limits.announce_ip, MUX_AGENTS,
                           limits.udp_candidates) if limits.udp_port else None)
        if self.mux is not None and limits.tcp_port:  # ICE-TCP beside it (streaming/tcp_mux.py)
            try:
                self.mux.tcp = TcpMux(self.mux, limits.tcp_port)
            except TcpPortUnavailable:
                self.mux.close()
                raise
        self.ice_servers = list(ice_servers)
        self._own_ice: list[IceServer] = []
        self.peers: dict[str, Peer] = {}
        self.locals: dict[str, LocalPublisher] = {}  # peer id -> RTMP publisher (issue 16 §8)
        self.sources: dict[str, dict[str, Source]] = {}  # room -> source id -> Source
        self._listeners: list[Callable[[MediaEvent], None]] = []
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.foreign = ForeignCounts()  # streaming/transport_guard.py, for /metrics
        self._retired = Tally()  # counters of peers and Sources that are gone (streaming/stats.py)
        rules = SpeakerRules(**limits.speaker.model_dump(exclude={"threshold"}))
        self.booths = Booths(limits, self._channel_added, self._channel_ended, self._emit)
        self.speakers = SpeakerWatch(rules, lambda: self.sources, self._speaker_changed)
        self.allocator = Allocator(
            lambda: [p for p in self.peers.values() if isinstance(p, ViewerLeg)],
            lambda: [s for room in self.sources.values() for s in room.values()],
            self._quality_changed,
            self._layers_wanted,
        )

    def listen(self, listener: Callable[[MediaEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, event: MediaEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                logger.exception("media event listener failed")

    def _speaker_changed(self, room: str, change: SpeakerChange) -> None:
        for recording in self.recordings.values():
            if recording.spec.room == room:
                recording.speaker_changed(change.participant)
        packager = self.packagers.get(room)
        if packager is not None:
            packager.speaker_changed(change.participant)
        self._emit(SpeakerChanged(room, change.participant, change.level))

    def _quality_changed(self, leg: ViewerLeg, quality: Quality) -> None:
        self._emit(QualityChanged(
            leg.room, leg.participant, leg.peer_id, quality.source.source_id, quality.layer,
            quality.width, quality.height, quality.reason,
        ))

    def _layers_wanted(self, source: Source, active: tuple[str, ...]) -> None:
        """Tell the publisher of ``source`` which of its layers to send (issue 14 §4)."""
        if source.relayed:
            return  # an edge's Source: its origin adapts what it sends us
        participant = source.source_id.rsplit("/", 1)[0]
        leg = self._publisher_of(source.room, participant)
        if leg is not None:
            self._emit(LayersWanted(source.room, participant, leg.peer_id, source.source_id,
                                    active))

    # -- publishing ---------------------------------------------------------------------------

    async def publish(self, room: str, participant: str, offer_sdp: str,
                      channel: str | None = None) -> Answer:
        """Negotiate a publisher's offer; its tracks become Sources of ``room``.

        The offer is screened first (:func:`streaming.offer_check.screen`): hostile structure
        is a :class:`BadOffer` before any peer exists, refused candidates are stripped.
        ``channel``: an interpreter's audio into that language's channel (issue 17,
        streaming/channels.py); the caller checked that the offer sends no video.
        """
        self._check_open()
        offer_sdp = self._screen(offer_sdp)
        self.booths.assign(room, participant, channel)
        leg = PublisherLeg(
            self._new_id(), room, participant, self.limits, self._own_ice, self._track
        )
        previous = self._publisher_of(room, participant)
        return await self._negotiate(leg, lambda: leg.answer(offer_sdp), previous)

    def publish_local(self, room: str, participant: str) -> LocalPublisher:
        """A publisher whose RTP this node makes (the RTMP ingest, issue 16 §8): its tracks
        become Sources of ``room`` like a WHIP publisher's; :meth:`close` with its ``peer_id``
        ends it (DELETE, kick, room end) like any peer. The same participant's previous local
        publisher in ``room`` hands its Sources over and closes."""
        self._check_open()
        for previous in [p for p in self.locals.values()
                         if p.room == room and p.participant == participant]:
            # an encoder that reconnects before its old connection timed out: the new one
            # takes over the Sources (viewers keep their tracks, the forwarder rebases) and
            # the old connection is hung up, as a re-publishing WHIP publisher's leg is
            previous.release()
            self._spawn(self._close_local(previous))
        local = LocalPublisher(self._new_id(), room, participant, self._track,
                               self.limits.speaker.threshold)
        self.locals[local.peer_id] = local
        return local

    def _track(
        self, leg: IntakeLeg | LocalPublisher, kind: str, codec: Codec, ids: dict[str, int],
        rids: tuple[str, ...] = ("",),
    ) -> Source:
        room = self.sources.setdefault(leg.room, {})
        index = sum(1 for i in leg.inbounds if i.source is not None and i.source.kind == kind)
        source_id = f"{leg.participant}/{kind}{index}"
        language = leg.language if isinstance(leg, UpstreamLeg) else None
        if language is not None:  # an edge's pull of a channel: the origin's id (issue 17)
            source_id = channel_id(language)
        source = room.get(source_id)
        if (
            source is None
            or source.ended.is_set()
            or source.codec.name != codec.name
            or tuple(layer.rid for layer in source.layers) != rids
        ):
            if source is not None:
                self._end_source(source, leg.participant)
            source = Source(source_id, leg.room, kind, codec, self.limits, rids)
            source.relayed = isinstance(leg, UpstreamLeg)
            source.language = language
            room[source_id] = source
            self._added(source, leg.participant)
        source.set_extension_ids(ids)
        if isinstance(leg, PublisherLeg):
            self.booths.fed(source, leg.participant)  # an interpreter's: into their channel
        self.speakers.start()  # the first track: active speaker detection begins
        if kind == "video":
            self.allocator.start()  # the first video track: adaptation begins
        return source

    def _added(self, source: Source, participant: str) -> None:
        """A new Source: announced, recorded and packaged (an interpreter's own track is only
        their booth's, issue 17: neither a room track nor recorded)."""
        booth = self.booths.language_of(source.room, participant) is not None
        self._emit(SourceAdded(source.room, participant, source.source_id, source.kind,
                               source.codec.mime, source.relayed, booth))
        if booth:
            return
        for recording in self.recordings.values():
            if recording.spec.room == source.room:
                recording.add_source(source)
        packager = self.packagers.get(source.room)
        if packager is not None:
            packager.add_source(source)

    # -- interpretation channels (issue 17, streaming/channels.py) ----------------------------

    def _channel_added(self, source: Source) -> None:
        """A channel Source: listeners subscribe to it; the room's HLS carries it as an audio
        rendition tagged with its language, a recording as its own file (``channel_zh``);
        neither mixes it into a forum's program."""
        self.sources.setdefault(source.room, {})[source.source_id] = source
        self._emit(SourceAdded(source.room, "", source.source_id, source.kind,
                               source.codec.mime, interpretation=True))
        for recording in self.recordings.values():
            if recording.spec.room == source.room:
                recording.add_source(source)
        packager = self.packagers.get(source.room)
        if packager is not None:
            packager.add_source(source)

    def _channel_ended(self, source: Source) -> None:
        self._end_source(source, "")

    def hand_channel(self, room: str, language: str, identity: str) -> None:
        """``identity`` (sending into ``language``'s channel) goes on air: the channel's
        listeners hear them on the same track from their next packet."""
        self.booths.hand_to(room, language, identity)

    def mute_channel(self, room: str, language: str, muted: bool) -> None:
        """The cough button: the channel's listeners hear nothing until unmuted."""
        self.booths.mute(room, language, muted)

    def channel_states(self, room: str) -> dict[str, ChannelState]:
        """``room``'s channels on this node, by language."""
        return self.booths.states(room)

    # -- live HLS (issue 16, streaming/hls/) ---------------------------------------------------

    def start_hls(self, spec: HlsSpec) -> None:
        """Package ``spec.room``'s live Sources as HLS now and every one added later, until
        :meth:`stop_hls` or until the room has had no video for a while (the feed then ends
        with ``EXT-X-ENDLIST``). A room whose HLS runs already is left as it is; one whose
        feed ended starts a new feed. Raises :class:`Capacity` at ``max_hls`` on this node."""
        self._check_open()
        if spec.room in self.packagers:
            return
        if len(self.packagers) >= self.max_hls:
            raise Capacity(f"this node packages HLS for {self.max_hls} rooms already")
        self._forget_hls(spec.room)
        packager = HlsPackager(spec, self.depacketizers, self._hls_ended)
        self.packagers[spec.room] = packager
        for source in list(self.sources.get(spec.room, {}).values()):
            if source.booth is None:  # an interpreter's own track is only their booth's
                packager.add_source(source)

    def hls(self, room: str) -> HlsFeed | None:
        """``room``'s live HLS, or its ended feed while it is kept; None otherwise."""
        packager = self.packagers.get(room)
        if packager is not None:
            return packager
        kept = self._ended_hls.get(room)
        return kept[0] if kept is not None else None

    async def stop_hls(self, room: str) -> None:
        """End ``room``'s HLS: its playlists get ``EXT-X-ENDLIST`` (its thread is joined)."""
        packager = self.packagers.get(room)
        if packager is not None:
            await packager.stop()

    def _hls_ended(self, packager: HlsPackager) -> None:
        if self.packagers.get(packager.room) is packager:
            del self.packagers[packager.room]
        self._forget_hls(packager.room)
        if packager.archived is not None:
            self._emit(packager.archived)  # the replay's start (issue 16 §5)
        if self._closing:
            return
        timer = asyncio.get_running_loop().call_later(
            HLS_KEEP_S, self._forget_hls, packager.room)
        self._ended_hls[packager.room] = (packager, timer)

    def _forget_hls(self, room: str) -> None:
        kept = self._ended_hls.pop(room, None)
        if kept is not None:
            kept[1].cancel()

    # -- recordings (issue 15, streaming/recorder.py) ---------------------------------------

    def start_recording(self, spec: RecordingSpec) -> None:
        """Record ``spec.room``'s live Sources now and every one added later, until stopped.

        Raises :class:`Capacity` at ``max_recordings`` running on this node, ``ValueError`` if
        ``spec.rec_id`` already runs. A recording that stops by itself (disk full, slow disk,
        write error) emits :class:`RecordingEnded` with the reason; streaming goes on.
        """
        self._check_open()
        if spec.rec_id in self.recordings:
            raise ValueError(f"recording {spec.rec_id!r} is running already")
        if len(self.recordings) >= self.max_recordings:
            raise Capacity(f"this node records {self.max_recordings} rooms already")
        recording = Recording(spec, self.depacketizers, self._recording_ended)
        self.recordings[spec.rec_id] = recording
        for source in list(self.sources.get(spec.room, {}).values()):
            if source.booth is None:  # an interpreter's own track is only their booth's
                recording.add_source(source)

    def recording_of(self, room: str) -> str | None:
        """The id of ``room``'s running recording, if any (one that is stopping is not)."""
        for rec_id, recording in self.recordings.items():
            if recording.spec.room == room and not recording.stopping:
                return rec_id
        return None

    def recording_files(self, rec_id: str) -> tuple[RecordedFile, ...]:
        """The files of a running recording, with their sizes now."""
        return self._recording(rec_id).files()

    async def stop_recording(self, rec_id: str) -> RecordingEnded:
        """Stop a recording: its files are closed (in its writer thread) before this returns;
        the same :class:`RecordingEnded` goes to the plane's listeners."""
        return await self._recording(rec_id).stop()

    def _recording(self, rec_id: str) -> Recording:
        recording = self.recordings.get(rec_id)
        if recording is None:
            raise UnknownRecording(f"no running recording {rec_id!r}")
        return recording

    def _recording_ended(self, ended: RecordingEnded) -> None:
        self.recordings.pop(ended.rec_id, None)
        logger.info("recording %s of %s ended (%s)", ended.rec_id, ended.room,
                    ended.reason or "stopped")
        self._emit(ended)

    # -- pulling from an origin (cascade) ------------------------------------------------------

    async def open_upstream(self, room: str, participant: str,
                            language: str | None = None) -> Answer:
        """An edge's pull of ``room`` from its origin: returns the peer id and the recvonly
        *offer* to POST to the origin's WHEP; the origin's answer goes to
        :meth:`accept_upstream`. Its tracks become Sources of ``room`` here, named
        ``<participant>/<kind><n>``, that local viewers receive as from a local publisher.

        ``language`` (issue 17): a pull of that interpretation channel (one audio m-line, for
        the origin's WHEP ``?language=``); its Source here keeps the origin's id
        ``channel:<language>``, so ``subscribe {channel}`` on the edge finds it as at the
        origin, and it is no floor track (:meth:`live_sources` skips it)."""
        self._check_open()
        leg = UpstreamLeg(
            self._new_id(), room, participant, self.limits, self._own_ice, self._track
        )
        leg.language = language
        return await self._negotiate(leg, leg.offer, None)

    async def accept_upstream(self, peer_id: str, answer_sdp: str,
                              replaces: str | None = None) -> None:
        """The origin's answer to :meth:`open_upstream`; a refusal closes the peer.

        ``replaces``: a previous upstream of the same room and label (a re-pull after the
        origin moved, issue 13 §3). Its Sources continue with this leg, as a re-publishing
        publisher's do, so local viewers keep their tracks (the forwarder keeps sequence
        numbers and timestamps continuous); the previous leg closes without ending them. If
        this answer cannot be used, those Sources end (their viewers get a BYE).
        """
        peer = self.peer(peer_id)
        if not isinstance(peer, UpstreamLeg):
            raise UnknownPeer(f"peer {peer_id!r} is no upstream")
        previous = self.peers.get(replaces) if replaces is not None else None
        moved = previous.release() if isinstance(previous, UpstreamLeg) else []
        try:
            await peer.accept(answer_sdp)  # another node of this cluster, reached as it says
        except BaseException:
            await self._close_leg(peer, end_sources=True)
            for source in moved:
                if not source.ended.is_set():
                    self._end_source(source, peer.participant)
            raise
        if isinstance(previous, UpstreamLeg):
            self._spawn(self._close_leg(previous, end_sources=False))

    def end_orphans(self, room: str, participant: str) -> int:
        """End ``participant``'s Sources of ``room`` that no live leg feeds any more (an
        upstream whose link failed and was not re-pulled in time); returns how many."""
        fed = {id(i.source) for peer in self.peers.values() if isinstance(peer, IntakeLeg)
               for i in peer.inbounds if i.source is not None}
        fed |= {id(t.source) for local in self.locals.values() for t in local.inbounds
                if t.source is not None}
        orphans = [self.sources[room][s] for s in self.pulled(room, participant)
                   if id(self.sources[room][s]) not in fed]
        for source in orphans:
            self._end_source(source, participant)
        return len(orphans)

    def pulled(self, room: str, label: str) -> list[str]:
        """The live Sources of ``room`` an upstream labelled ``label`` feeds: ``label``'s
        (:meth:`sources_of`), or the channel itself for a channel's pull (issue 17)."""
        if label.startswith(CHANNEL_PREFIX):
            source = self.sources.get(room, {}).get(label)
            return [label] if source is not None and not source.ended.is_set() else []
        return self.sources_of(room, label)

    def upstreams(self, room: str | None = None) -> list[UpstreamLeg]:
        """The live upstream legs (of ``room``, or all)."""
        return [
            peer
            for peer in self.peers.values()
            if isinstance(peer, UpstreamLeg) and (room is None or peer.room == room)
        ]

    def _publisher_of(self, room: str, participant: str) -> PublisherLeg | None:
        for peer in self.peers.values():
            if (
                isinstance(peer, PublisherLeg)
                and peer.room == room
                and peer.participant == participant
                and not peer.closed.is_set()
            ):
                return peer
        return None

    # -- viewing ------------------------------------------------------------------------------

    async def subscribe_whep(
        self, room: str, viewer: str, offer_sdp: str, source_ids: Sequence[str] | None = None
    ) -> Answer:
        """Negotiate a viewer's own recvonly offer (WHEP, and the pages' ``subscribe {sdp}``).

        ``source_ids`` picks what it receives, as for :meth:`offer_to_viewer` (default: the
        room's latest audio and video); the offered m-lines of a kind get the picked Sources
        of that kind in order, an m-line left without one is answered ``inactive``. Unknown or
        ended ids raise :class:`NothingPublished` before any peer exists.
        """
        self._check_open()
        offer_sdp = self._screen(offer_sdp)
        by_kind: dict[str, list[Source]] = {}
        for source in self._pick(room, source_ids):
            by_kind.setdefault(source.kind, []).append(source)
        leg = ViewerLeg(self._new_id(), room, viewer, self.limits, self._own_ice)
        return await self._negotiate(leg, lambda: leg.answer(offer_sdp, by_kind), None)

    async def offer_to_viewer(
        self, room: str, viewer: str, source_ids: Sequence[str] | None = None
    ) -> Answer:
        """The server offers ``source_ids`` (default: the room's latest audio and video).

        Returns the peer id and the SDP *offer*; the viewer's answer goes to
        :meth:`accept_answer`. The browser protocol uses this (the sender of media offers).
        """
        self._check_open()
        sources = self._pick(room, source_ids)
        leg = ViewerLeg(self._new_id(), room, viewer, self.limits, self._own_ice)
        return await self._negotiate(leg, lambda: leg.offer(sources), None)

    async def accept_answer(self, peer_id: str, answer_sdp: str) -> None:
        """The viewer's answer to :meth:`offer_to_viewer`; a refusal closes the peer."""
        peer = self.peer(peer_id)
        if not isinstance(peer, ViewerLeg):
            raise UnknownPeer(f"peer {peer_id!r} does not wait for an answer")
        try:
            await peer.accept(self._screen(answer_sdp, answer=True))
        except BaseException:
            await self._close_leg(peer, end_sources=False)
            raise

    def _pick(self, room: str, source_ids: Sequence[str] | None) -> list[Source]:
        if source_ids is None:
            sources = list(self.live_sources(room).values())
        else:
            live = self.sources.get(room, {})
            missing = [s for s in source_ids if s not in live or live[s].ended.is_set()]
            if missing:
                raise NothingPublished(f"no live track {missing[0]!r} in room {room!r}")
            sources = [live[s] for s in source_ids]
        if not sources:
            raise NothingPublished(f"nothing is published in room {room!r}")
        if any(source.full for source in sources):
            raise Capacity(f"room {room!r} has its maximum of viewers")
        return sources

    def sources_of(self, room: str, participant: str) -> list[str]:
        """The ids of ``participant``'s live Sources in ``room`` (publish order)."""
        prefix = f"{participant}/"
        return [
            source_id
            for source_id, source in self.sources.get(room, {}).items()
            if source_id.startswith(prefix)
            and "/" not in source_id[len(prefix) :]
            and not source.ended.is_set()
        ]

    def live_sources(self, room: str) -> dict[str, Source]:
        """The most recently published live Source of each kind in ``room``."""
        latest: dict[str, Source] = {}
        for source in self.sources.get(room, {}).values():
            if not source.ended.is_set() and source.booth is None and source.language is None:
                latest[source.kind] = source  # the floor and stage: no channel (issue 17)
        return latest

    def set_view(self, peer_id: str, view: TileView) -> None:
        """What the viewer ``peer_id``'s page shows of its video (issue 14 §2b): the tile size
        caps the layer it gets; an invisible tile pauses its video (audio goes on)."""
        peer = self.peers.get(peer_id)
        if not isinstance(peer, ViewerLeg):
            raise UnknownPeer(f"no viewer peer {peer_id!r}")
        peer.set_view(view)

    # -- peers --------------------------------------------------------------------------------

    async def _negotiate(
        self, leg: Peer, answer: Callable[..., object], previous: Peer | None
    ) -> Answer:
        # lines about this peer, and those of the tasks aiortc and the leg start while it
        # negotiates (they copy this context), carry its room, participant and id
        with log_context.bind(room=leg.room, identity=leg.participant, peer=leg.peer_id):
            return await self._negotiated(leg, answer, previous)

    async def _negotiated(
        self, leg: Peer, answer: Callable[..., object], previous: Peer | None
    ) -> Answer:
        self.peers[leg.peer_id] = leg
        leg.on_failed = self._failed
        leg.mux = self.mux
        leg.foreign = self.foreign  # datagrams from foreign sources, counted node-wide
        try:
            sdp = await answer()  # type: ignore[misc]
        except BaseException:
            await self._discard(leg)
            raise
        if isinstance(previous, PublisherLeg):
            previous.release()  # its Sources continue with the new leg
            self._spawn(self._close_leg(previous, end_sources=False))
        return Answer(leg.peer_id, str(sdp))

    async def _discard(self, leg: Peer) -> None:
        self.peers.pop(leg.peer_id, None)
        await leg.close()

    def _failed(self, peer: Peer) -> None:
        """A peer's connection failed or closed (ICE consent lost, DTLS closed by the remote).

        Called once per state change, so possibly twice ("failed", then "closed"): the first
        call takes the peer out of the registry at once, the others find nothing to do.
        """
        if self._closing or self.peers.get(peer.peer_id) is not peer:
            return
        logger.info(
            "peer %s (%s in %s) ended: %s", peer.peer_id, peer.participant, peer.room, peer.states
        )
        self._retire(peer)
        # an upstream whose link failed leaves its Sources live (frozen) for the edge to
        # re-pull (web/cascade.py), which ends them with end_orphans if it cannot
        keep = isinstance(peer, UpstreamLeg) and not peer.origin_ended
        self._spawn(self._close_leg(peer, end_sources=not keep, retired=True))

    async def add_candidate(self, peer_id: str, mid: str | None, candidate: str) -> None:
        """A trickled ICE candidate for a peer (WHIP/WHEP PATCH, or Socket.IO).

        One the node must not check (:mod:`streaming.candidate_filter`) is dropped and counted,
        and is no error for the client: that candidate just never gets a check.
        """
        peer = self.peers.get(peer_id)
        if peer is None:
            raise UnknownPeer(f"no peer {peer_id!r}")
        if not await peer.add_candidate(mid, candidate):
            self._retired.dropped_candidates += 1

    def _screen(self, sdp: str, answer: bool = False) -> str:
        screened = screen(sdp, self.limits, answer=answer)
        self._retired.dropped_candidates += len(screened.dropped)
        return screened.sdp

    def peer(self, peer_id: str) -> Peer:
        peer = self.peers.get(peer_id)
        if peer is None:
            raise UnknownPeer(f"no peer {peer_id!r}")
        return peer

    async def close(self, peer_id: str) -> None:
        """End a peer: a publisher's Sources end, a viewer leaves its Sources."""
        local = self.locals.get(peer_id)
        if local is not None:
            await self._close_local(local)
            return
        peer = self.peers.get(peer_id)
        if peer is None:
            raise UnknownPeer(f"no peer {peer_id!r}")
        await self._close_leg(peer, end_sources=True)

    def _retire(self, peer: Peer) -> None:
        """Take ``peer`` out in one step: out of the registry, its counters into the plane's
        totals, ``PeerEnded`` told. A failed peer used to leave the registry at once and do the
        rest a loop turn later: meanwhile it was gone but not ended, and its counters were in
        neither the live peers nor the totals (a counter going back in /metrics)."""
        self.peers.pop(peer.peer_id, None)
        if isinstance(peer, ViewerLeg) and not peer.retired:
            peer.retired = True  # its counters move to the plane's totals once
            self._retired.add(peer.tally())
        self._emit(PeerEnded(peer.room, peer.participant, peer.peer_id))

    async def _close_leg(self, peer: Peer, end_sources: bool, retired: bool = False) -> None:
        if not retired:
            self._retire(peer)
        if isinstance(peer, IntakeLeg):
            for source in peer.release():
                if end_sources:
                    self._end_source(source, peer.participant)
        await peer.close()

    async def _close_local(self, local: LocalPublisher) -> None:
        if self.locals.pop(local.peer_id, None) is None:
            return
        self._emit(PeerEnded(local.room, local.participant, local.peer_id))
        for source in local.release():
            self._end_source(source, local.participant)
        await local.close()

    def _end_source(self, source: Source, participant: str) -> None:
        if source.booth is not None:
            self.booths.unfed(source, participant)  # a partner goes on air, or it ends
        source.end()
        room = self.sources.get(source.room, {})
        if room.get(source.source_id) is source:
            del room[source.source_id]
            self._retired.received_packets += source.packets
            if not room:
                self.sources.pop(source.room, None)
        self._emit(SourceEnded(source.room, participant, source.source_id, source.kind,
                               source.relayed, source.booth is not None
                               or source.language is not None))

    def stats(self) -> PlaneStats:
        """Live peers and Sources now, and all-time totals (live counters + retired ones)."""
        totals = Tally()
        totals.add(self._retired)
        viewers = [p for p in self.peers.values() if isinstance(p, ViewerLeg)]
        for viewer in viewers:
            totals.add(viewer.tally())
        live = [s for room in self.sources.values() for s in room.values()]
        totals.received_packets += sum(s.packets for s in live)
        publishers = sum(1 for p in self.peers.values() if isinstance(p, PublisherLeg))
        publishers += len(self.locals)
        return PlaneStats(publishers, len(viewers), len(live), totals)

    async def aclose(self) -> None:
        """Close every peer and cancel every task; the plane takes no new peers after this."""
        self._closing = True
        for recording in list(self.recordings.values()):
            await recording.stop("plane_closed")
        for packager in list(self.packagers.values()):
            await packager.stop()
        for room in list(self._ended_hls):
            self._forget_hls(room)
        await self.speakers.aclose()
        await self.allocator.aclose()
        for local in list(self.locals.values()):
            await self._close_local(local)
        for peer_id in list(self.peers):
            peer = self.peers.get(peer_id)
            if peer is not None:
                await self._close_leg(peer, end_sources=True)
        # spawned tasks are closes already under way: let them finish (cancelling one would
        # cancel aiortc's shared close future under the other awaiting it)
        if self._tasks:  # each is a bounded peer close (streaming/peer.py)
            await asyncio.wait(set(self._tasks), timeout=2 * CLOSE_TIMEOUT_S)
        if self.mux is not None:
            self.mux.close()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _check_open(self) -> None:
        if self._closing:
            raise PlaneClosed("the media plane is shutting down")

    @staticmethod
    def _new_id() -> str:
        return secrets.token_urlsafe(12)
