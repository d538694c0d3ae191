"""Checking a client's payload against a message type, before anything acts on it (pure).

A message type is a frozen dataclass whose fields carry a :class:`Spec` in their metadata
(``field(metadata=spec(Text(64)))``). :func:`decode` builds the dataclass from a JSON payload or
raises :class:`~signaling.errors.SignalingError` naming the field: ``missing_field`` or
``bad_field``. Unknown keys are ignored (clients may send more in a newer version).
:func:`payload_size` measures a decoded payload without serialising it again, stopping as soon as
it passes the cap, so a big payload costs no more than the cap to refuse.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from signaling.errors import SignalingError

MAX_DEPTH = 8
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Text:
    """A string of ``min_chars``..``max_chars`` characters (content rules live in rooms)."""

    max_chars: int
    min_chars: int = 1

    def check(self, name: str, value: object) -> Any:
        if not isinstance(value, str):
            raise _bad(name, "must be a string")
        if not self.min_chars <= len(value) <= self.max_chars:
            raise _bad(name, f"must be {self.min_chars}-{self.max_chars} characters")
        return value


@dataclass(frozen=True, slots=True)
class Integer:
    lo: int
    hi: int

    def check(self, name: str, value: object) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(name, "must be an integer")
        if not self.lo <= value <= self.hi:
            raise _bad(name, f"must be between {self.lo} and {self.hi}")
        return value


@dataclass(frozen=True, slots=True)
class Flag:
    def check(self, name: str, value: object) -> Any:
        if not isinstance(value, bool):
            raise _bad(name, "must be true or false")
        return value


@dataclass(frozen=True, slots=True)
class Choice:
    values: tuple[str, ...]

    def check(self, name: str, value: object) -> Any:
        if not isinstance(value, str) or value not in self.values:
            raise _bad(name, f"must be one of {', '.join(self.values)}")
        return value


Spec = Text | Integer | Flag | Choice


@dataclass(frozen=True, slots=True)
class Undecodable:
    """Stands in for a payload the transport could not parse as JSON (malformed, or nested
    too deep for the parser): the transport hands it over so the packet keeps its ack id, and
    the session's door answers it ``bad_json`` (docs/protocol.md) instead of the event."""

    reason: str = "the payload is not JSON"


def spec(kind: Spec, *, nullable: bool = False) -> dict[str, Any]:
    """Field metadata: how to check the field, and whether ``null`` is a valid value."""
    return {"spec": kind, "nullable": nullable}


def decode(cls: type[T], payload: object) -> T:
    """Build ``cls`` from ``payload`` (a JSON object) or raise ``SignalingError``."""
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise SignalingError("bad_payload", "the payload must be a JSON object")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in payload:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SignalingError("missing_field", f"field {f.name!r} is required",
                                     field=f.name)
            continue
        value = payload[f.name]
        if value is None and f.metadata.get("nullable"):
            values[f.name] = None
            continue
        values[f.name] = f.metadata["spec"].check(f.name, value)
    return cls(**values)


def payload_size(payload: object, cap: int) -> int:
    """Approximate JSON size of ``payload``; returns early (> cap) once the cap is passed.

    Raises ``SignalingError('bad_payload')`` for nesting deeper than :data:`MAX_DEPTH` or values
    JSON cannot carry (NaN, infinities).
    """
    total = 0
    stack: list[tuple[object, int]] = [(payload, 0)]
    while stack and total <= cap:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SignalingError("bad_payload", f"payload is nested deeper than {MAX_DEPTH}")
        total += _leaf_size(value)
        if isinstance(value, Mapping):
            for key, item in value.items():
                total += len(str(key)) + 4
                stack.append((item, depth + 1))
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)
    return total


def _leaf_size(value: object) -> int:
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise SignalingError("bad_payload", "numbers must be finite")
    if isinstance(value, Mapping | list | tuple):
        return 2
    return 8


def _bad(name: str, why: str) -> SignalingError:
    return SignalingError("bad_field", f"field {name!r} {why}", field=name)
