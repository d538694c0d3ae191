"""The settings model: every knob of a node, with its default and its validation.

Settings are immutable once built (``frozen``) and unknown keys are refused (``extra="forbid"``),
so a typo in a TOML file or a ``PAVILION_*`` variable is an error at start, never a silently
ignored value. :mod:`config.loader` builds them from defaults, a TOML file and the environment.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Language = Literal["zh", "en", "ja", "ko", "ru", "mn"]
LANGUAGES: tuple[Language, ...] = ("zh", "en", "ja", "ko", "ru", "mn")


def is_loopback(host: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1``: an address only this machine can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IceServer(_Section):
    """One STUN or TURN server handed to clients (WebRTC ``RTCIceServer``)."""

    urls: list[str] = Field(min_length=1)
    username: str | None = None
    credential: str | None = None

    @field_validator("urls")
    @classmethod
    def _scheme(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
                raise ValueError(
                    f"ICE server URL must start with stun:, stuns:, turn: or turns: ({url!r})"
                )
        return urls


class SpeakerSettings(_Section):
    """Active speaker detection from RFC 6464 audio levels (``[media.speaker]``; issue 14 §5,
    streaming/speaker.py): a packet is loud at ``threshold`` -dBov or louder (0 = full scale)."""

    threshold: int = Field(default=45, ge=0, le=127)
    tick_ms: int = Field(default=200, ge=20, le=5_000)
    window_ms: int = Field(default=1_000, ge=100, le=60_000)
    min_speech_ms: int = Field(default=300, ge=0, le=60_000)
    margin_ms: int = Field(default=200, ge=0, le=60_000)
    hold_ms: int = Field(default=500, ge=0, le=60_000)  # at most 1000/hold_ms changes a second
    release_ms: int = Field(default=1_500, ge=0, le=600_000)


class AdaptSettings(_Section):
    """Per-viewer downlink estimation, layer choice and probing (``[media.adapt]``; issue 14 §2-3,
    streaming/bandwidth.py, layer_choice.py, probe.py). Rates in kbit/s, times in ms, loss and
    ratios as fractions; docs/media.md "Estimation and layer choice" says what each one does."""

    start_kbps: int = Field(default=1_000, ge=50, le=100_000)
    max_kbps: int = Field(default=20_000, ge=100, le=1_000_000)
    remb_timeout_ms: int = Field(default=3_000, ge=250, le=60_000)
    remb_bound_ratio: float = Field(default=0.9, ge=0.5, le=3.0)  # Chromium: 0.85x on overuse
    # a REMB under this is not taken as a ceiling: aiortc receivers (Python WHEP clients) send
    # REMBs of about half what they receive, and below it the loss part decides alone
    remb_floor_kbps: int = Field(default=80, ge=0, le=100_000)
    loss_high: float = Field(default=0.10, gt=0.0, le=1.0)  # draft-ietf-rmcat-gcc §6
    loss_low: float = Field(default=0.02, ge=0.0, le=1.0)
    loss_growth: float = Field(default=0.08, ge=0.0, le=1.0)  # per second, loss under loss_low
    loss_interval_ms: int = Field(default=300, ge=0, le=10_000)
    growth_cap_ratio: float = Field(default=1.5, ge=1.0, le=10.0)
    rise_ms: int = Field(default=1_000, ge=0, le=60_000)
    rate_window_ms: int = Field(default=1_000, ge=100, le=10_000)
    margin: float = Field(default=0.3, ge=0.0, le=2.0)  # headers, audio bursts, keyframes
    keep_ratio: float = Field(default=0.9, gt=0.0, le=1.0)
    down_hold_ms: int = Field(default=300, ge=0, le=10_000)
    weak_hold_ms: int = Field(default=1_500, ge=0, le=60_000)
    up_hold_ms: int = Field(default=3_000, ge=0, le=60_000)
    up_hold_max_ms: int = Field(default=30_000, ge=0, le=600_000)
    up_fail_ms: int = Field(default=5_000, ge=0, le=600_000)
    probe_ms: int = Field(default=1_500, ge=100, le=10_000)
    probe_verdict_ms: int = Field(default=500, ge=0, le=10_000)
    probe_max_kbps: int = Field(default=3_000, ge=10, le=100_000)
    probe_backoff_ms: int = Field(default=2_000, ge=0, le=600_000)
    probe_backoff_max_ms: int = Field(default=30_000, ge=0, le=600_000)
    probe_loss_abort: float = Field(default=0.05, gt=0.0, le=1.0)
    probe_drop_ratio: float = Field(default=0.1, ge=0.0, le=1.0)  # overuse: 0.85x
    # a settled viewer's layers are chosen again this often (and at once on news); 100: every
    # adaptation tick, as before issue 19 (CPU per viewer against reaction to a slow change).
    # A settled viewer is on the top of its ladder: only its layer's rate growing past its
    # budget waits for this (a link it congests answers with feedback, which is news)
    settled_ms: int = Field(default=2_000, ge=100, le=5_000)

    @model_validator(mode="after")
    def _ordered(self) -> AdaptSettings:
        if self.loss_low > self.loss_high:
            raise ValueError("media.adapt: loss_low must not exceed loss_high")
        if self.start_kbps > self.max_kbps:
            raise ValueError("media.adapt: start_kbps must not exceed max_kbps")
        if (self.up_hold_ms > self.up_hold_max_ms
                or self.probe_backoff_ms > self.probe_backoff_max_ms):
            raise ValueError("media.adapt: a hold or backoff must not exceed its maximum")
        return self


class MediaLimits(_Section):
    """Limits on what a client may send to the media plane (DESIGN.md §6)."""

    max_sdp_bytes: int = Field(default=20_000, ge=1_000, le=1_000_000)
    max_sdp_lines: int = Field(default=1_000, ge=20, le=100_000)
    max_candidates_per_peer: int = Field(default=64, ge=1, le=10_000)
    max_viewers_per_track: int = Field(default=500, ge=1, le=100_000)
    viewer_queue_packets: int = Field(default=512, ge=16, le=65_536)
    nack_cache_packets: int = Field(default=1_024, ge=64, le=65_536)
    pli_interval_ms: int = Field(default=300, ge=50, le=10_000)  # libwebrtc takes one per 300 ms
    # issue 19 §2: how the fan-out sends ("auto": sendmmsg where built, "sendto": the fallback)
    send_backend: Literal["auto", "sendto"] = "auto"
    # issue 19: who protects viewers' RTP ("auto": the compiled AES-GCM where built and an AEAD
    # profile was negotiated, "libsrtp": always libsrtp); streaming/srtp_protection.py
    srtp_backend: Literal["auto", "libsrtp"] = "auto"
    # Caps on what one client can make the node hold or do (issue 11, DESIGN.md §6).
    max_peers_per_session: int = Field(default=8, ge=1, le=1_000)
    max_peers_per_identity: int = Field(default=16, ge=1, le=10_000)
    max_negotiations: int = Field(default=32, ge=1, le=10_000)
    # structure of an offer (docs/media.md, "Hostile offers"): bounds the work one offer costs
    max_media_sections: int = Field(default=8, ge=1, le=64)
    max_sdp_line_chars: int = Field(default=1_024, ge=256, le=65_536)
    max_section_lines: int = Field(default=300, ge=50, le=100_000)
    # remote ICE candidates the node may send checks to (streaming/candidate_filter.py): off on
    # their own; Settings turns both on for a loopback-bound node (the demo, the tests) unless set
    allow_loopback_candidates: bool = False
    allow_private_candidates: bool = False
    # consent freshness (RFC 7675, streaming/consent.py): a STUN check about every interval; a
    # peer that answered none for ``consent_timeout_s`` is ended (RFC 7675: at most 30 s)
    consent_interval_s: float = Field(default=5.0, ge=0.1, le=30)
    consent_timeout_s: float = Field(default=30.0, ge=0.5, le=30)
    speaker: SpeakerSettings = Field(default_factory=SpeakerSettings)
    adapt: AdaptSettings = Field(default_factory=AdaptSettings)
    # One UDP port for every peer of the node (issue 19, docs/media.md "One UDP port"): 0 keeps
    # a socket and port per peer; ``announce_ip`` is the address host candidates advertise
    # (NAT 1:1: a cloud VM's public address), empty = this host's own addresses.
    udp_port: int = Field(default=0, ge=0, le=65_535)
    announce_ip: str = ""
    # ICE-TCP (RFC 6544, docs/media.md "ICE-TCP"), for clients whose networks pass no UDP:
    # 0 = off; N = a passive TCP host candidate per address on TCP port N beside the UDP ones
    # (the udp_port number is the natural choice: one number to open, two protocols)
    tcp_port: int = Field(default=0, ge=0, le=65_535)
    # False leaves the UDP host candidates out (TCP only): for the tests that prove ICE-TCP
    # carries a session on its own; no deployment wants it
    udp_candidates: bool = True

    @field_validator("announce_ip")
    @classmethod
    def _announce_ip(cls, value: str) -> str:
        if not value:
            return value
        try:
            address = ipaddress.ip_address(value.strip("[]"))
        except ValueError:
            raise ValueError("must be an IPv4 or IPv6 address, not a name") from None
        if address.is_unspecified or address.is_multicast:
            raise ValueError("must be a unicast address clients can reach")
        return str(address)

    @model_validator(mode="after")
    def _announce_needs_port(self) -> MediaLimits:
        if self.announce_ip and not self.udp_port:
            raise ValueError("announce_ip needs udp_port (the one-port mode it is announced in)")
        if self.tcp_port and not self.udp_port:
            raise ValueError("tcp_port needs udp_port (ICE-TCP rides on the one-port mode)")
        if not self.udp_candidates and not self.tcp_port:
            raise ValueError("udp_candidates = false needs tcp_port (no candidate would be left)")
        return self

    @model_validator(mode="after")
    def _consent(self) -> MediaLimits:
        if self.consent_interval_s >= self.consent_timeout_s:
            raise ValueError("media: consent_interval_s must be below consent_timeout_s")
        return self


class SignalingLimits(_Section):
    """Limits on what a Socket.IO client may send (DESIGN.md §6)."""

    max_payload_bytes: int = Field(default=64_000, ge=1_000, le=10_000_000)
    events_per_second: float = Field(default=30.0, gt=0)
    event_burst: int = Field(default=60, ge=1)
    chat_max_chars: int = Field(default=1_000, ge=1, le=100_000)
    # Chat a node keeps while Redis is unreachable (issue 13 §6); more is refused, never dropped.
    chat_journal_max: int = Field(default=20_000, ge=1, le=1_000_000)
    question_max_chars: int = Field(default=500, ge=1, le=100_000)
    max_open_questions: int = Field(default=200, ge=1, le=100_000)  # per room; then questions_full
    snapshot_questions: int = Field(default=50, ge=0, le=10_000)  # open questions in a join ack
    chat_per_second: float = Field(default=2.0, gt=0)
    chat_burst: int = Field(default=10, ge=1)
    reactions_per_second: float = Field(default=5.0, gt=0)  # reactions and Q&A votes
    reaction_burst: int = Field(default=20, ge=1)
    rooms_per_client: int = Field(default=4, ge=1, le=1_000)
    mailbox_size: int = Field(default=256, ge=8, le=100_000)
    reconnect_grace_s: float = Field(default=20.0, ge=0, le=3_600)
    # issue 17: a channel's listener count is pushed at most this often per room, and for at
    # most this many rooms at once (signaling/channel_pulse.py)
    listeners_push_s: float = Field(default=1.0, gt=0, le=60)
    listeners_push_rooms: int = Field(default=4_096, ge=1, le=1_000_000)


class MeetingLimits(_Section):
    """Quotas of trade-meeting requests (``[meetings]``), so no one holds every slot."""

    open_requests_per_buyer: int = Field(default=5, ge=1, le=1_000)
    open_requests_per_exhibitor: int = Field(default=2, ge=1, le=1_000)  # per buyer
    requests_per_client_per_hour: int = Field(default=30, ge=0, le=100_000)  # 0: no limit


class ClusterSettings(_Section):
    """How a node reports its load, places rooms and drains (``[cluster]``; docs/deploy.md).

    A node's *load* is its scarcest resource as a fraction of what one node (one core) can
    serve: the largest of its CPU seconds per second and its media peers, Socket.IO sessions
    and egress bitrate over their capacities (rooms/cluster/load.py). 1.0 is a full node.
    """

    report_interval_s: float = Field(default=2.0, ge=0.1, le=60)  # reports live 3 intervals
    placement: Literal["load", "first"] = "load"  # "first": whoever sees the first client
    max_load: float = Field(default=0.85, gt=0, le=100)  # over it, a node takes no new rooms
    # issue 18 §2: the organiser console's alerts (rooms/cluster/alerts.py)
    quiet_alert_s: float = Field(default=5.0, gt=0, le=3_600)  # a published room silent this long
    loss_alert: float = Field(default=0.05, gt=0, le=1)  # a publisher's track losing more
    placement_margin: float = Field(default=0.2, ge=0, le=100)  # a clearly lower load
    drain_s: float = Field(default=30.0, ge=0, le=3_600)  # SIGTERM: how long clients may stay
    peer_capacity: int = Field(default=300, ge=1, le=1_000_000)
    session_capacity: int = Field(default=5_000, ge=1, le=10_000_000)
    egress_capacity_mbps: float = Field(default=500.0, gt=0, le=1_000_000)
    # Node loss (issue 13): a room's lease lapses ``lease_ttl_s`` after its holder's last
    # renewal, and the keeper renews every ``renew_interval_s``; a holder whose load report
    # expired (3 report intervals) is taken as dead at once, whatever its lease says.
    lease_ttl_s: float = Field(default=8.0, ge=1, le=600)
    renew_interval_s: float = Field(default=2.0, ge=0.1, le=200)
    # a member's presence record lapses this long after its node's last heartbeat (rewritten
    # by the keeper if it lapsed while Redis was down; docs/state.md)
    presence_ttl_s: float = Field(default=30.0, ge=1, le=3_600)
    # Cascade (issue 13, docs/media.md "Cascade"): a WHEP viewer of a broadcast or forum whose
    # media is on another node is served here from one upstream per room instead of redirected;
    # the upstream goes ``cascade_linger_s`` after this node's last viewer of the room leaves.
    cascade: bool = False
    cascade_linger_s: float = Field(default=5.0, ge=0, le=600)
    # Viewer placement (rooms/cluster/audience.py): an origin serves at most this many viewers
    # of one room itself, then sends new ones to the least-loaded cascading node under
    # ``max_load``; it feeds at most ``cascade_max_edges`` edges per room directly, then sends
    # a new edge's pull to one of them (depth 2). An edge whose upstream sends nothing for
    # ``cascade_stall_s`` while its upstream node is gone re-pulls from the room's new node.
    origin_max_viewers: int = Field(default=100, ge=0, le=1_000_000)
    cascade_max_edges: int = Field(default=8, ge=1, le=10_000)
    cascade_stall_s: float = Field(default=1.5, ge=0.2, le=60)

    @model_validator(mode="after")
    def _renewal_fits_the_lease(self) -> ClusterSettings:
        """Two renewals fit in one lease, so one slow round trip never loses a room."""
        if self.renew_interval_s * 2 > min(self.lease_ttl_s, self.presence_ttl_s):
            raise ValueError("renew_interval_s must be at most half of lease_ttl_s "
                             "and of presence_ttl_s")
        return self


class TurnSettings(_Section):
    """A TURN server sharing a secret with Pavilion (``[turn]``; docs/deploy.md, docs/security.md).

    Each client is handed its own time-limited credential for ``urls``, minted with the TURN
    REST API scheme (signaling/turn.py); coturn checks it with ``use-auth-secret`` and
    ``static-auth-secret`` set to the same ``shared_secret``. The secret is never logged.
    """

    urls: list[str] = Field(min_length=1, max_length=16)
    shared_secret: SecretStr
    ttl_s: int = Field(default=86_400, ge=60, le=7 * 86_400)  # credential lifetime

    @field_validator("urls")
    @classmethod
    def _turn_scheme(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("turn:", "turns:")):
                raise ValueError(f"TURN server URL must start with turn: or turns: ({url!r})")
        return urls

    @field_validator("shared_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        # HMAC-SHA1 keys shorter than the hash weaken it (RFC 2104 §3); ask for what `secret` does
        if len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 bytes")
        return value


def default_node_id(port: object) -> str:
    """The host name and the port: unique on one host by construction (two nodes cannot listen
    on one port), and stable across restarts, so metrics and leases keep naming the same node.
    A node on an ephemeral port (``0``) adds a random suffix instead."""
    host = socket.gethostname()[:48] or "node"
    try:
        number = int(str(port))
    except ValueError:
        number = 0
    return f"{host}-{number}" if number > 0 else f"{host}-{secrets.token_hex(3)}"


class RecordingSettings(_Section):
    """``[recordings]``: where a node keeps what it records and for how long (issue 15).

    ``dir``: the recordings' directory (default: ``<state_dir>/recordings``, else
    ``./recordings``). ``auto``: room kinds recorded as soon as they go live. ``retention_days``:
    per room kind, 0 keeps forever. ``queue_frames``: the bounded queue between the event loop
    and a recording's writer thread; a writer that falls this far behind (a slow disk) stops
    that recording with a notice, never the room. ``min_free_mb``: a recording stops when the
    disk has less free space than this."""

    dir: str | None = Field(default=None, min_length=1, max_length=4_096)
    container: Literal["auto", "webm", "mp4"] = "auto"  # auto: WebM for VP8, MP4 for H264
    auto: list[Literal["broadcast", "forum", "meeting"]] = Field(default_factory=list)
    program: bool = True  # forums and meetings also get a program file (§4)
    retention_days: dict[str, int] = Field(  # keys: broadcast, forum, meeting
        default_factory=lambda: {"broadcast": 365, "forum": 365, "meeting": 30})
    queue_frames: int = Field(default=600, ge=16, le=100_000)
    min_free_mb: int = Field(default=200, ge=0, le=10_000_000)
    max_per_node: int = Field(default=64, ge=1, le=10_000)  # recordings at once


RoomKindName = Literal["broadcast", "forum", "meeting"]
HLS_KINDS: tuple[RoomKindName, ...] = ("broadcast", "forum")


class HlsSettings(_Section):
    """``[hls]``: the HTTP rendition of broadcasts and forums (issue 16; docs/hls.md).

    ``kinds``: room kinds that get HLS as soon as they have live video. ``segment_s``: the
    target segment duration (a segment starts at a keyframe at least this far from the last
    one's start); ``part_s``: the LL-HLS part target (RFC 8216bis ``EXT-X-PART-INF``).
    ``window_segments``: segments a live playlist lists (older ones are forgotten).
    ``ladder``: output heights when video must be encoded (a VP8 publisher, a forum's program):
    ``[720]`` one rung, ``[720, 360]`` adds a second rung and a master playlist.
    ``link_ttl_s``: how long a signed HLS URL of a private room stays valid.
    ``webrtc_timeout_s``: how long the viewer page waits for WebRTC media before it falls back to
    HLS. ``seat_retry_s``: how often a viewer on HLS because the room's WebRTC seats were full asks
    for a seat again. ``max_per_node``: HLS packagers at once on one node. ``studio_h264``: the
    studio page of a room with HLS offers H264 first, so HLS packages the browser's own H264 instead
    of transcoding VP8 (on by default: Chromium's H264 simulcast gives viewers every layer at its
    SPS size and HLS no encoder; not re-measured on shaped links, docs/hls.md §3). ``replay``: every
    feed's segments are also written under ``recordings_dir`` and
    become a replay (a VOD playlist) when it ends (issue 16 §5, docs/hls.md §9)."""

    kinds: list[RoomKindName] = Field(default_factory=lambda: list(HLS_KINDS))
    segment_s: float = Field(default=2.0, ge=0.5, le=10.0)
    part_s: float = Field(default=0.5, ge=0.1, le=2.0)
    window_segments: int = Field(default=6, ge=3, le=60)
    transcode_vp8: bool = True
    ladder: list[int] = Field(default_factory=lambda: [720], min_length=1, max_length=3)
    x264_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast"] = "ultrafast"
    link_ttl_s: int = Field(default=6 * 3600, ge=60, le=7 * 86_400)
    webrtc_timeout_s: float = Field(default=6.0, ge=1.0, le=60.0)
    seat_retry_s: float = Field(default=20.0, ge=1.0, le=600.0)
    max_per_node: int = Field(default=32, ge=1, le=10_000)
    studio_h264: bool = True
    replay: bool = True


WEBHOOK_EVENTS: tuple[str, ...] = (
    "room_started", "room_finished", "participant_joined", "participant_left",
    "track_published", "track_unpublished", "recording_started", "recording_finished",
    "quote_requested", "meeting_requested", "meeting_accepted", "meeting_declined",
    "meeting_cancelled", "meeting_withdrawn", "meeting_expired", "meeting_no_show", "moderation")


class WebhookTarget(_Section):
    """One endpoint that receives signed events (``webhooks = [{url, secret, events}]``; issue
    18 §1, docs/webhooks.md). ``events``: the event names it wants (default: all). The secret
    signs each delivery (HMAC-SHA256) and is never logged."""

    url: str = Field(min_length=8, max_length=2_048)
    secret: SecretStr
    events: list[str] | None = Field(default=None, max_length=len(WEBHOOK_EVENTS))

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url

    @field_validator("secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().encode()) < 16:
            raise ValueError("must be at least 16 bytes")
        return value

    @field_validator("events")
    @classmethod
    def _known(cls, events: list[str] | None) -> list[str] | None:
        for name in events or ():
            if name not in WEBHOOK_EVENTS:
                raise ValueError(f"unknown webhook event {name!r}")
        return events


class WebhookDelivery(_Section):
    """``[webhooks_delivery]``: how events reach the targets (docs/webhooks.md "Delivery").

    A failed attempt is retried after ``backoff_s`` doubling up to ``backoff_max_s`` (each
    delay jittered down by up to half), until the event is ``give_up_s`` old: then it goes to
    the dead-letter list. ``timeout_s``: one attempt. ``concurrency``: attempts at once per
    node. ``held_max``: events a node holds in memory per target (the queue keeps the rest).
    ``spool_max``: events kept in memory while Redis is unreachable at enqueue time (then
    pushed in order); past it an event is dropped (logged, counted). ``memory_max``: the memory
    queue's cap (no Redis). ``lease_s``: one node delivers a target's events at a time; another
    takes over (and claims the unacknowledged ones) this long after it stops renewing.
    ``poll_s``: how often a node looks for new events. ``dead_max``: dead letters kept."""

    backoff_s: float = Field(default=1.0, gt=0, le=3_600)
    backoff_max_s: float = Field(default=600.0, gt=0, le=86_400)
    give_up_s: float = Field(default=86_400.0, gt=0, le=30 * 86_400)
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    concurrency: int = Field(default=8, ge=1, le=1_000)
    held_max: int = Field(default=10_000, ge=1, le=1_000_000)
    spool_max: int = Field(default=10_000, ge=1, le=1_000_000)
    memory_max: int = Field(default=100_000, ge=1, le=10_000_000)
    lease_s: float = Field(default=15.0, ge=0.2, le=600)
    poll_s: float = Field(default=1.0, ge=0.01, le=60)
    dead_max: int = Field(default=10_000, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _lease_outlives_polls(self) -> WebhookDelivery:
        """The holder renews its lease at each poll: two polls fit in one lease."""
        if self.lease_s < 2 * self.poll_s:
            raise ValueError("webhooks_delivery: lease_s must be at least twice poll_s")
        return self


class Settings(_Section):
    """A node's whole configuration."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65_535)
    public_url: str | None = None
    secret: SecretStr | None = None
    api_key: SecretStr | None = None
    redis_url: str | None = None
    # default: default_node_id(port); the characters a Bus topic and a Redis key take as they are
    node_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    default_language: Language = "en"
    demo: bool = True
    demo_public: bool = False  # allow demo mode on a non-loopback address (staff links for all)
    # where `pavilion serve` keeps the demo secret for `pavilion token` (config/state.py);
    # default $XDG_STATE_HOME/pavilion, else ~/.local/state/pavilion
    state_dir: str | None = Field(default=None, min_length=1, max_length=4_096)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # "json": one object per line; "text": for a person; "auto": text on a terminal, else JSON
    log_format: Literal["auto", "json", "text"] = "auto"  # config/logs.py, docs/deploy.md
    token_leeway_s: int = Field(default=10, ge=0, le=600)
    ice_servers: list[IceServer] = Field(default_factory=list)
    turn: TurnSettings | None = None  # per-client TURN credentials (signaling/turn.py)
    media: MediaLimits = Field(default_factory=MediaLimits)
    signaling: SignalingLimits = Field(default_factory=SignalingLimits)
    meetings: MeetingLimits = Field(default_factory=MeetingLimits)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    recordings: RecordingSettings = Field(default_factory=RecordingSettings)
    hls: HlsSettings = Field(default_factory=HlsSettings)
    webhooks: list[WebhookTarget] = Field(default_factory=list, max_length=32)  # issue 18 §1
    webhooks_delivery: WebhookDelivery = Field(default_factory=WebhookDelivery)
    # RTMP ingest from the venue (issue 16 §8): rtmp://host:rtmp_port/live/{token}; 0: off
    rtmp_port: int = Field(default=1935, ge=0, le=65_535)
    # the same ingest behind TLS (issue 16 §8, RTMPS): rtmps://host:rtmps_port/live/{token};
    # 0: off. The certificate chain and its key are PEM files (both needed when on).
    rtmps_port: int = Field(default=0, ge=0, le=65_535)
    rtmps_cert: str = Field(default="", max_length=4_096)
    rtmps_key: str = Field(default="", max_length=4_096)

    @model_validator(mode="after")
    def _rtmps_needs_a_certificate(self) -> Settings:
        """RTMPS on without a certificate is a configuration error at start, not a port
        that accepts connections and fails every handshake."""
        if self.rtmps_port and not (self.rtmps_cert and self.rtmps_key):
            raise ValueError("rtmps_port needs rtmps_cert and rtmps_key (PEM files)")
        if self.rtmps_port and self.rtmps_port == self.rtmp_port:
            raise ValueError("rtmps_port and rtmp_port must differ")
        return self

    @model_validator(mode="before")
    @classmethod
    def _node_id_from_port(cls, data: Any) -> Any:
        """An unset ``node_id`` is the host name and the port (:func:`default_node_id`)."""
        if isinstance(data, dict) and data.get("node_id") in (None, ""):
            return {**data, "node_id": default_node_id(data.get("port", 8080))}
        return data

    @model_validator(mode="before")
    @classmethod
    def _candidates_follow_host(cls, data: Any) -> Any:
        """On a loopback-bound node, loopback and private candidates are allowed unless set.

        Such a node only serves this machine, whose own interfaces are the candidates its
        clients offer; a node other machines reach refuses them unless configured.
        """
        if not isinstance(data, dict) or not _loopback_host(data.get("host", "127.0.0.1")):
            return data
        media = data.get("media")
        if isinstance(media, MediaLimits):
            media = media.model_dump(include=media.model_fields_set)
        media = dict(media) if isinstance(media, dict) else {}
        media.setdefault("allow_loopback_candidates", True)
        media.setdefault("allow_private_candidates", True)
        return {**data, "media": media}

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url in (None, ""):
            return None
        assert url is not None
        if not url.startswith(("redis://", "rediss://", "unix://", "redis+sentinel://")):
            raise ValueError("must start with redis://, rediss://, unix:// or redis+sentinel://")
        return url

    @field_validator("public_url")
    @classmethod
    def _public_scheme(cls, url: str | None) -> str | None:
        if url in (None, ""):
            return None
        assert url is not None
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url.rstrip("/")

    @field_validator("secret", "api_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # RFC 7518 §3.2: an HS256 key must be at least as long as the hash (32 bytes).
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("must be at least 32 bytes (RFC 7518 §3.2)")
        return value

    @model_validator(mode="after")
    def _secret_outside_demo(self) -> Settings:
        if self.secret is None and not self.demo:
            raise ValueError("secret: required unless demo mode is on (set PAVILION_SECRET)")
        return self

    @model_validator(mode="after")
    def _demo_stays_local(self) -> Settings:
        if self.demo and not self.demo_public and not is_loopback(self.host):
            raise ValueError(
                f"demo: demo mode hands every visitor staff links, refusing to serve it on "
                f"{self.host}; bind 127.0.0.1, turn demo off (--no-demo), or allow it with "
                "demo_public = true (--demo-public)")
        return self

    @property
    def base_url(self) -> str:
        """The URL clients reach this node at: ``public_url`` or one built from host and port."""
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def recordings_dir(self) -> Path:
        """Where this node writes recordings (issue 15): ``recordings.dir``, else
        ``<state_dir>/recordings``, else ``./recordings``; one folder per recording id."""
        if self.recordings.dir:
            return Path(self.recordings.dir).expanduser()
        if self.state_dir:
            return Path(self.state_dir).expanduser() / "recordings"
        return Path("recordings")

    def secret_value(self) -> str:
        """The token secret; only valid after :func:`config.loader.load` filled it in."""
        if self.secret is None:
            raise RuntimeError("settings have no secret")
        return self.secret.get_secret_value()


def _loopback_host(host: object) -> bool:
    """Whether a bind address only reaches this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if not isinstance(host, str):
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
