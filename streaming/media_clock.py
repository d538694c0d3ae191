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
DRIFT_S = 0.03  # the RTP clock may stray this far from the SR mapping before it is re-anchored


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
    """One track's unwrapped RTP timestamps → node time in seconds.

    Times run on the RTP clock from an anchor, so frames keep their exact spacing (a muxer
    and a player see a steady rate); the anchor is set through the SRs (lip sync) and moved
    only when the SR mapping and the RTP clock disagree by more than ``DRIFT_S`` (clock
    drift, a publisher's RTP timestamps jumping). Before the first SR the anchor is the first
    frame's arrival.
    """

    def __init__(self, clock_rate: int, participant: ParticipantClock) -> None:
        self.rate = clock_rate
        self.participant = participant
        self._sr: tuple[float, int] | None = None  # (NTP seconds, 32-bit RTP ts)
        self._anchor: tuple[float, int, bool] | None = None  # (node time, ts, from an SR)

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
        mapped = self._mapped(ts)
        if self._anchor is None:
            self._anchor = (arrival if mapped is None else mapped, ts, mapped is not None)
        at, anchor_ts, from_sr = self._anchor
        steady = at + (ts - anchor_ts) / self.rate
        if mapped is not None and (not from_sr or abs(mapped - steady) > DRIFT_S):
            self._anchor = (mapped, ts, True)
            return mapped
        return steady

    def _mapped(self, ts: int) -> float | None:
        """``ts`` through the last SR and the participant's offset, if both are known."""
        offset = self.participant.offset
        if self._sr is None or offset is None:
            return None
        ntp_s, sr_ts = self._sr
        return ntp_s + signed_delta(ts, sr_ts) / self.rate + offset
