"""The lobby's replays (issue 15 §6): published recordings of public rooms, newest first, as
cards with title, pavilion, date and duration, and per pavilion how many it has.

Which recordings a visitor without a token may see is the one gate's answer
(:meth:`rooms.replay_desk.ReplayDesk.visible`); this module shapes them for the template. Pure
over values, so it is tested without a server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from config import Language
from rooms.pavilion import Pavilion
from rooms.recording import Recording
from rooms.room import Room

REPLAYS_SHOWN = 12  # the lobby shows the newest; a pavilion's link shows that pavilion's


@dataclass(frozen=True, slots=True)
class ReplayCard:
    id: str
    title: str
    room_title: str
    room_id: str
    pavilion: str  # the Pavilion's value
    pavilion_name: str  # in the reader's language
    started_at: str  # ISO 8601, UTC: localtime.js shows it in the visitor's zone
    started_at_utc: str
    duration: str  # "1:02:03" / "12:34"
    url: str


def clock(seconds: float) -> str:
    """A duration the way players write it: ``1:02:03``, ``2:03``."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


PavilionName = Callable[[Pavilion], str]


def replay_card(recording: Recording, room: Room, lang: Language,
                pavilion_name: PavilionName) -> ReplayCard:
    """What a card shows: the owner's title, else the room's in the reader's language."""
    room_title = room.title.get(lang)
    started = datetime.fromtimestamp(recording.started_at, UTC)
    return ReplayCard(
        id=recording.id, title=recording.title or room_title, room_title=room_title,
        room_id=recording.room, pavilion=room.pavilion.value,
        pavilion_name=pavilion_name(room.pavilion),
        started_at=started.isoformat(), started_at_utc=started.strftime("%Y-%m-%d %H:%M UTC"),
        duration=clock(recording.duration_s), url=f"/replay/{recording.id}?lang={lang}")


def replay_cards(visible: Iterable[tuple[Recording, Room]], lang: Language,
                 pavilion_name: PavilionName, *, query: str = "") -> list[ReplayCard]:
    """Cards for the replays the gate let the visitor see, newest first, whose title or room
    title holds ``query``."""
    newest = sorted(visible, key=lambda pair: (-pair[0].started_at, pair[0].id))
    cards = [replay_card(r, room, lang, pavilion_name) for r, room in newest]
    needle = query.strip().casefold()
    if not needle:
        return cards
    return [c for c in cards if needle in c.title.casefold() or needle in c.room_title.casefold()]


def per_pavilion(cards: Iterable[ReplayCard]) -> dict[Pavilion, int]:
    """How many public replays each pavilion has (a pavilion with none is absent)."""
    counts = Counter(c.pavilion for c in cards if c.pavilion)
    return {p: counts[p.value] for p in Pavilion if counts[p.value]}


def of_pavilion(cards: list[ReplayCard], pavilion: str | None) -> list[ReplayCard]:
    """``cards`` of one pavilion (``None``: all), the first :data:`REPLAYS_SHOWN`."""
    chosen = cards if not pavilion else [c for c in cards if c.pavilion == pavilion]
    return chosen[:REPLAYS_SHOWN]
