"""RTMP errors: a protocol fault of the encoder, and a refusal of the door."""

from __future__ import annotations


class RtmpError(ValueError):
    """The encoder sent something this server does not accept; the connection closes."""


class RtmpRefused(Exception):
    """The door refused a publish: ``code`` is the onStatus code (``NetStream.Publish.BadName``
    or ``NetStream.Publish.Rejected``), ``reason`` a short sentence for the encoder's log."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
