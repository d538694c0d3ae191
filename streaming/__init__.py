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
    UnknownRecording,
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
from streaming.recording_spec import RecordedFile, RecordingEnded, RecordingSpec

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
    "RecordedFile",
    "RecordingEnded",
    "RecordingSpec",
    "SourceAdded",
    "SourceEnded",
    "SpeakerChanged",
    "UnknownPeer",
    "UnknownRecording",
]
