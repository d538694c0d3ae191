"""The media plane: packet forwarding on aiortc (DESIGN.md §3). Import from here."""

from streaming.errors import (
    BadOffer,
    Capacity,
    CodecMismatch,
    MediaError,
    NothingPublished,
    NoUsableCodec,
    PlaneClosed,
    UnknownPeer,
)
from streaming.plane import (
    Answer,
    MediaEvent,
    MediaPlane,
    PeerEnded,
    SourceAdded,
    SourceEnded,
    SpeakerChanged,
)

__all__ = [
    "Answer",
    "BadOffer",
    "Capacity",
    "CodecMismatch",
    "MediaError",
    "MediaEvent",
    "MediaPlane",
    "NoUsableCodec",
    "NothingPublished",
    "PeerEnded",
    "PlaneClosed",
    "SourceAdded",
    "SourceEnded",
    "SpeakerChanged",
    "UnknownPeer",
]
