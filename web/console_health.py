"""This node's rooms' health for the node directory (issue 18 §2): the media plane's figures
(streaming/room_health.py) as rooms' ``RoomDetail`` values, written with each load report."""

from __future__ import annotations

import time
from collections.abc import Callable

from rooms.cluster.health import LinkHealth, RoomDetail, RoomHealth, worst_first
from streaming.plane import MediaPlane
from streaming.room_health import HealthSampler, LinkFigures, RoomFigures


def details(figures: list[RoomFigures], node_id: str, now: float) -> list[RoomDetail]:
    return [RoomDetail(_summary(f, node_id, now), worst_first([_link(x) for x in f.links]))
            for f in figures]


def _summary(f: RoomFigures, node_id: str, now: float) -> RoomHealth:
    return RoomHealth(room=f.room, node=node_id, publishers=f.publishers, viewers=f.viewers,
                      bitrate_bps=f.bitrate_bps, loss=round(f.loss, 4),
                      keyframe_requests=f.keyframe_requests, weak_viewers=f.weak_viewers,
                      recording=f.recording, hls=f.hls, quiet_s=f.quiet_s,
                      reported_at=round(now, 3))


def _link(x: LinkFigures) -> LinkHealth:
    return LinkHealth(identity=x.identity, peer=x.peer, direction=x.direction,
                      bitrate_bps=x.bitrate_bps, loss=x.loss, weak=x.weak,
                      keyframe_requests=x.keyframe_requests, layers=dict(x.layers),
                      rtt_ms=x.rtt_ms)


def reader(plane: MediaPlane | None, node_id: str) -> Callable[[], list[RoomDetail]]:
    """What the reporter calls each interval: nothing without a media plane."""
    if plane is None:
        return list
    sampler = HealthSampler(plane)
    return lambda: details(sampler.sample(), node_id, time.time())
