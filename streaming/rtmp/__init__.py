"""RTMP ingest from the venue (issue 16 §8): pure protocol modules and the asyncio server.

``handshake`` (C0/C1/C2 ↔ S0/S1/S2), ``chunks`` (chunk stream parser and writer), ``amf0``
(command values), ``flv`` (video/audio tag bodies), ``session`` (the command flow as a state
machine fed bytes), ``h264_rtp`` (RFC 6184 packetizer), ``ingest`` (FLV frames → RTP into a
:class:`~streaming.local_publisher.LocalPublisher`), ``server`` (asyncio sockets).
"""

from streaming.rtmp.errors import RtmpError, RtmpRefused

__all__ = ["RtmpError", "RtmpRefused"]
