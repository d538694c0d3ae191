"""RTP time → the node's clock, through the publisher's sender reports (RFC 3550 §6.4.1).

A publisher stamps each track with its own RTP clock; its RTCP sender reports pair an RTP
timestamp with its NTP wall clock, the same clock for all its tracks. Mapping every track
through its SRs to that NTP clock, and NTP to the node's clock with **one offset per
participant**, puts audio and video of one publisher on one time line: lip sync holds (issue 15
§1). Before a track's first SR its time runs from its first frame's arrival. Pure: the caller
passes arrival times (the event loop's clock) in.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)
TS_MOD = 1 << 32
NTP_FRACTION = 1 << 32
RESYNC_S = 1.0  # an SR this far off the participant's offset: another device or a clock jump


def signed_delta(ts: int, ref: int) -> int:
    """``ts - ref`` for 32-bit RTP timestamps, as the nearest signed difference (RFC 3550 §5.1)."""
    delta = (ts - ref) % TS_MOD
    return delta - TS_MOD if delta >= TS_MOD // 2 else delta


class ParticipantClock:
    """The publisher's NTP clock → the node's clock: ``node = ntp + offset``.

    Set at the first SR of any of the participant's tracks and kept (audio and video share
    it); an SR that disagrees by more than ``RESYNC_S`` (the participant came back from
    another device, or its clock jumped) sets it again.
    """

    def __init__(self) -> None:
        self.offset: float | None = None

    def observe(self, ntp_s: float, arrival: float) -> None:
        offset = arrival - ntp_s
        if self.offset is None:
            self.offset = offset
        elif abs(offset - self.offset) > RESYNC_S:
            logger.info("publisher clock moved by %.3f s: resynchronised", offset - self.offset)
            self.offset = offset


class TrackClock:
    """One track's unwrapped RTP timestamps → node time in seconds."""

    def __init__(self, clock_rate: int, participant: ParticipantClock) -> None:
        self.rate = clock_rate
        self.participant = participant
        self._sr: tuple[float, int] | None = None  # (NTP seconds, 32-bit RTP ts)
        self._anchor: tuple[float, int] | None = None  # (arrival, unwrapped ts)

    def on_sender_report(self, ntp: int, rtp_ts: int, arrival: float) -> None:
        """``ntp``: the SR's 64-bit NTP timestamp; ``arrival``: when it came (node clock)."""
        ntp_s = ntp / NTP_FRACTION
        self._sr = (ntp_s, rtp_ts)
        self.participant.observe(ntp_s, arrival)

    def restart(self) -> None:
        """A new RTP stream (new SSRC): its timestamps share nothing with the old one's."""
        self._sr = None
        self._anchor = None

    def time_of(self, ts: int, arrival: float) -> float:
        """The node time of RTP timestamp ``ts`` (unwrapped) that arrived at ``arrival``."""
        offset = self.participant.offset
        if self._sr is not None and offset is not None:
            ntp_s, sr_ts = self._sr
            return ntp_s + signed_delta(ts, sr_ts) / self.rate + offset
        if self._anchor is None:
            self._anchor = (arrival, ts)
        first_arrival, first_ts = self._anchor
        return first_arrival + (ts - first_ts) / self.rate
