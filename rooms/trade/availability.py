"""Availability for trade meetings: exhibitor profiles and the slots they publish (pure values).

A :class:`Slot` is one bookable meeting time of one host (the exhibitor or a named team member):
an absolute start in UTC, a length of 15/30/45/60 minutes, the languages spoken, and the zone it
was published in (for display only). Input arrives as a local date and time plus an IANA zone
(``Asia/Tokyo``) or as an ISO instant with an offset; both become UTC here, and every bad value is
an :class:`~rooms.errors.InvalidInput` with a stable code (``bad_time_zone``, ``slot_in_past``,
``bad_length`` ...). Nothing here does I/O: the Store and the service call these functions.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rooms.errors import InvalidInput
from rooms.pavilion import Pavilion
from rooms.text import TITLE_MAX, LocalizedText, short_text

LENGTHS = (15, 30, 45, 60)
MAX_LENGTH = timedelta(minutes=max(LENGTHS))
MAX_SLOTS_PER_CALL = 50
MAX_LANGUAGES = 8
MAX_TEAM = 20
MAX_PRODUCTS = 30
DESCRIPTION_MAX = 1_000  # characters of an exhibitor's description, per language
IDENTITY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")
SLOT_ID = re.compile(r"s-[0-9a-f]{12}")
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


def check_identity(identity: object, what: str = "identity") -> str:
    """Identities name Redis keys and URL paths: 1-128 of ``A-Z a-z 0-9 _ . @ -``."""
    if not isinstance(identity, str) or not IDENTITY.fullmatch(identity):
        raise InvalidInput(f"bad_{what}", f"{what} must be 1-128 of A-Z a-z 0-9 _ . @ -")
    return identity


def check_slot_id(slot_id: object) -> str:
    if not isinstance(slot_id, str) or not SLOT_ID.fullmatch(slot_id):
        raise InvalidInput("bad_slot_id", "slot ids look like s-0123456789ab")
    return slot_id


def new_slot_id() -> str:
    return "s-" + secrets.token_hex(6)


def zone(name: object) -> ZoneInfo:
    """An IANA time zone (``Asia/Ulaanbaatar``); anything else is ``bad_time_zone``."""
    if not isinstance(name, str) or not name or len(name) > 64 or ".." in name:
        raise InvalidInput("bad_time_zone", "time_zone must be an IANA zone like Asia/Seoul")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput("bad_time_zone", f"unknown time zone {name!r}") from None


def parse_instant(text: object) -> datetime:
    """An ISO 8601 instant with an offset (``2026-09-02T10:00:00+09:00``) -> aware UTC."""
    if not isinstance(text, str):
        raise InvalidInput("bad_datetime", "expected an ISO 8601 date-time string")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("bad_datetime", f"not an ISO 8601 date-time: {text!r}") from None
    if when.utcoffset() is None:
        raise InvalidInput("naive_datetime", "give a UTC offset or a time_zone with local times")
    return when.astimezone(UTC)


def local_to_utc(day: object, clock: object, time_zone: str) -> datetime:
    """A wall-clock ``date`` + ``start`` in ``time_zone`` -> aware UTC.

    A local time that does not exist (skipped by a daylight-saving change) is refused rather than
    silently moved; an ambiguous one takes its first occurrence (``fold=0``).
    """
    tz = zone(time_zone)
    try:
        local = datetime.combine(date.fromisoformat(str(day)), time.fromisoformat(str(clock)))
    except ValueError:
        raise InvalidInput("bad_datetime", "date must be YYYY-MM-DD and start HH:MM") from None
    aware = local.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local:
        raise InvalidInput("nonexistent_local_time", f"{local} does not exist in {time_zone}")
    return aware.astimezone(UTC)


def languages(values: object) -> tuple[str, ...]:
    """Spoken languages as ISO 639 codes (``zh``, ``en``, ``ru`` ...), 1-8, sorted, unique."""
    if not isinstance(values, list | tuple) or not values:
        raise InvalidInput("bad_languages", "languages must be a non-empty list of ISO 639 codes")
    codes = {str(v) for v in values}
    if len(codes) > MAX_LANGUAGES or not all(LANGUAGE_CODE.fullmatch(c) for c in codes):
        raise InvalidInput("bad_languages", f"at most {MAX_LANGUAGES} lower-case ISO 639 codes")
    return tuple(sorted(codes))


def iso(when: datetime) -> str:
    """UTC instants on the wire: ``2026-09-02T01:00:00Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Slot:
    """One bookable time of one host; ``starts_at`` is aware UTC."""

    id: str
    exhibitor: str
    host: str
    starts_at: datetime
    length_min: int
    languages: tuple[str, ...]
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        check_slot_id(self.id)
        check_identity(self.exhibitor, "exhibitor")
        check_identity(self.host, "host")
        if self.starts_at.utcoffset() is None:
            raise InvalidInput("naive_datetime", "slot times must be time-zone aware")
        if self.length_min not in LENGTHS:
            raise InvalidInput("bad_length", "length_min must be 15, 30, 45 or 60")
        zone(self.time_zone)
        object.__setattr__(self, "languages", languages(list(self.languages)))

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.length_min)

    def overlaps(self, other: Slot) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "exhibitor": self.exhibitor, "host": self.host,
                "starts_at": iso(self.starts_at), "ends_at": iso(self.ends_at),
                "length_min": self.length_min, "languages": list(self.languages),
                "time_zone": self.time_zone}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Slot:
        return cls(id=str(data["id"]), exhibitor=str(data["exhibitor"]), host=str(data["host"]),
                   starts_at=parse_instant(data["starts_at"]), length_min=int(data["length_min"]),
                   languages=tuple(data["languages"]), time_zone=str(data["time_zone"]))


def slot_from_input(data: object, *, exhibitor: str, host: str, now: datetime,
                    default_zone: str, slot_id: str | None = None) -> Slot:
    """Validate one published slot: ``{date, start, time_zone}`` or ``{starts_at}``, plus
    ``length_min`` and ``languages``. Slots must start in the future."""
    if not isinstance(data, Mapping):
        raise InvalidInput("bad_slot", "each slot must be a JSON object")
    tz = str(data.get("time_zone") or default_zone)
    zone(tz)
    if data.get("starts_at") is not None:
        starts = parse_instant(data["starts_at"])
    elif data.get("date") is not None and data.get("start") is not None:
        starts = local_to_utc(data["date"], data["start"], tz)
    else:
        raise InvalidInput("missing_field", "a slot needs starts_at, or date + start + time_zone")
    length = data.get("length_min")
    if isinstance(length, bool) or length not in LENGTHS:
        raise InvalidInput("bad_length", "length_min must be 15, 30, 45 or 60")
    if starts <= now:
        raise InvalidInput("slot_in_past", f"the slot at {iso(starts)} is not in the future")
    return Slot(id=slot_id or new_slot_id(), exhibitor=exhibitor, host=host, starts_at=starts,
                length_min=int(length), languages=languages(data.get("languages")),
                time_zone=tz)


def first_overlap(slots: Sequence[Slot]) -> tuple[Slot, Slot] | None:
    """Two slots of one host that overlap each other, if any (sorted sweep, O(n log n))."""
    by_host: dict[str, list[Slot]] = {}
    for slot in slots:
        by_host.setdefault(slot.host, []).append(slot)
    for group in by_host.values():
        group.sort(key=lambda s: s.starts_at)
        for earlier, later in itertools.pairwise(group):
            if earlier.overlaps(later):
                return earlier, later
    return None


@dataclass(frozen=True, slots=True)
class ExhibitorProfile:
    """Who an exhibitor is in the meeting directory, and who may act for it (``team``)."""

    id: str
    name: LocalizedText
    pavilion: Pavilion
    products: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    team: frozenset[str] = field(default_factory=frozenset)
    time_zone: str = "Asia/Shanghai"
    description: LocalizedText = field(default_factory=LocalizedText)  # a paragraph per language

    def __post_init__(self) -> None:
        check_identity(self.id, "exhibitor")
        for lang in self.description:
            short_text(self.description[lang], max_chars=DESCRIPTION_MAX, what="description")
        if not self.name.get("en"):
            raise InvalidInput("name_empty", "an exhibitor needs a name")
        for lang in self.name:
            short_text(self.name[lang], max_chars=TITLE_MAX, what="name")
        if len(self.products) > MAX_PRODUCTS:
            raise InvalidInput("too_many_products", f"at most {MAX_PRODUCTS} products")
        for product in self.products:
            short_text(product, max_chars=TITLE_MAX, what="product")
        if len(self.team) > MAX_TEAM:
            raise InvalidInput("team_too_large", f"at most {MAX_TEAM} team members")
        for member in self.team:
            check_identity(member, "team_member")
        zone(self.time_zone)
        object.__setattr__(self, "languages", languages(list(self.languages)))

    def acts_for(self, identity: str) -> bool:
        """The exhibitor itself or a named team member."""
        return identity == self.id or identity in self.team

    def matches(self, *, pavilion: Pavilion | None, product: str, language: str) -> bool:
        """The directory's filters: pavilion, product text (any language), spoken language."""
        if pavilion is not None and self.pavilion is not pavilion:
            return False
        if language and language not in self.languages:
            return False
        needle = product.strip().casefold()
        haystack = [*self.products, *(self.name[k] for k in self.name)]
        return not needle or any(needle in text.casefold() for text in haystack)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name.as_dict(), "pavilion": self.pavilion.value,
                "products": list(self.products), "languages": list(self.languages),
                "team": sorted(self.team), "time_zone": self.time_zone,
                "description": self.description.as_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExhibitorProfile:
        """Build from JSON; any bad field is an ``InvalidInput`` naming it."""
        try:
            return cls(
                id=str(data["id"]), name=LocalizedText(data.get("name") or {}),
                pavilion=Pavilion(data["pavilion"]),
                products=tuple(str(p) for p in _list(data.get("products"), "products")),
                languages=languages(data.get("languages") or ["en"]),
                team=frozenset(str(m) for m in _list(data.get("team"), "team")),
                time_zone=str(data.get("time_zone") or "Asia/Shanghai"),
                description=LocalizedText(data.get("description") or {}))
        except KeyError as exc:
            raise InvalidInput("missing_field", f"field {exc.args[0]!r} is required") from None
        except ValueError as exc:
            raise InvalidInput("bad_field", f"invalid exhibitor: {exc}") from None


def _list(value: object, what: str) -> Iterable[object]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput("bad_field", f"{what} must be a list")
    return value
