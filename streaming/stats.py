"""What the media plane has done, for ``/metrics`` (read at scrape time, never per packet).

The hot path only bumps plain integer attributes it already had (an Egress's ``sent_packets``, a
Source's ``packets``); :meth:`streaming.plane.MediaPlane.stats` sums the live ones and adds a
:class:`Tally` of those that are gone, so the totals only grow, as Prometheus counters must.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(slots=True)
class Tally:
    """Running totals (all time, this node)."""

    received_packets: int = 0  # publisher RTP taken in by Sources
    sent_packets: int = 0  # RTP and RTCP sent to viewers
    sent_bytes: int = 0  # their protected bytes (egress bitrate, rooms/cluster load reports)
    dropped_packets: int = 0  # dropped for a viewer whose queue was full
    send_errors: int = 0  # sendto failures and libsrtp refusals
    nacks_answered: int = 0  # packets resent from the NACK cache
    keyframe_requests: int = 0  # PLI/FIR received from viewers (before merging)
    path_changes: int = 0  # viewers moved to a newly nominated ICE pair
    dropped_candidates: int = 0  # remote ICE candidates refused (streaming/candidate_filter.py)
    layer_switches: int = 0  # viewers moved from one simulcast layer to another (issue 14 §2)
    probe_bytes: int = 0  # RTP padding sent to probe viewers' links (issue 14 §3)

    def add(self, other: Tally) -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


@dataclass(frozen=True, slots=True)
class PlaneStats:
    """One snapshot: what is live now, and the totals so far."""

    publishers: int
    viewers: int
    sources: int
    totals: Tally
