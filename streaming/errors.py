"""Errors of the media plane, each saying who is at fault; callers map them to their protocol."""

from __future__ import annotations

from streaming.negotiation import CodecMismatch, NegotiationError, NoUsableCodec


class MediaError(Exception):
    """Base of the plane's refusals; the message is one short sentence for the client."""


class BadOffer(MediaError):
    """The SDP offer is malformed or cannot be negotiated (the client's fault)."""


class UnknownPeer(MediaError):
    """No peer with that id (closed already, or never existed)."""


class NothingPublished(MediaError):
    """A viewer asked for a room that has no live published track."""


class Capacity(MediaError):
    """A limit from MediaLimits was reached (viewers per track, candidates per peer)."""


class UnknownRecording(MediaError):
    """No running recording with that id (stopped already, or never started here)."""


class PlaneClosed(MediaError):
    """The plane is shutting down and takes no new peers."""


class MediaPortUnavailable(Exception):
    """A configured media port cannot be bound (taken, or privileged): the node cannot start."""


class UdpPortUnavailable(MediaPortUnavailable):
    """``[media] udp_port`` cannot be bound."""


class TcpPortUnavailable(MediaPortUnavailable):
    """``[media] tcp_port`` (ICE-TCP) cannot be bound."""


__all__ = [
    "BadOffer",
    "Capacity",
    "CodecMismatch",
    "MediaError",
    "MediaPortUnavailable",
    "NegotiationError",
    "NoUsableCodec",
    "NothingPublished",
    "PlaneClosed",
    "TcpPortUnavailable",
    "UdpPortUnavailable",
    "UnknownPeer",
    "UnknownRecording",
]
