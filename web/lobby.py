"""The lobby's view model: rooms from the Store turned into what the lobby template shows.

Kept apart from the handler so it can be tested with plain values; all user-facing words come
from the catalog (pavilion names, room kinds), all room text from the room's own six languages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from config import Language
from rooms.errors import RoomsError
from rooms.factory import Backend
from rooms.pavilion import Pavilion
from rooms.replay_desk import ReplayDesk
from rooms.room import Room, RoomKind, RoomState
from rooms.showroom import Showroom
from rooms.text import LocalizedText
from web.interpret_strings import LANGUAGE_NAMES
from web.replays import ReplayCard, of_pavilion, per_pavilion, replay_cards
from web.templates import Renderer


def N_(message: str) -> str:
    """Marks a message for extraction (tests/foundation/test_catalogs.py); translated later."""
    return message


PAVILION_NAMES: dict[Pavilion, str] = {
    Pavilion.SCIENCE_TECH: N_("Science and Technology Innovation Pavilion"),
    Pavilion.AUTOMOBILE: N_("Automobile Pavilion"),
    Pavilion.NORTHEAST_ASIA: N_("Northeast Asian Countries Pavilion"),
    Pavilion.JILIN: N_("Jilin Pavilion"),
    Pavilion.REGIONS: N_("Provinces, Autonomous Regions and Cities Pavilion"),
    Pavilion.IMPORTED_GOODS: N_("Imported Goods Pavilion"),
    Pavilion.NEW_MEDIA: N_("New Media Live Broadcast Pavilion"),
}
ENDED_SHOWN = 12  # the lobby lists the latest ended rooms, not the whole archive
KIND_NAMES: dict[RoomKind, str] = {
    RoomKind.BROADCAST: N_("Live broadcast"),
    RoomKind.FORUM: N_("Forum"),
    RoomKind.MEETING: N_("Trade meeting"),
}


@dataclass(frozen=True)
class RoomCard:
    id: str
    kind: str
    kind_label: str
    state: str
    title: str
    description: str
    exhibitor: str
    pavilion_name: str
    present: int
    starts_at: str | None
    starts_at_utc: str | None
    private: bool
    matched_product: str | None = None
    # An ended room's newest published replay (issue 15 §6), if it has one.
    replay_url: str | None = None
    # Issue 17: the interpretation languages the room offers, each named in itself (中文, English).
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class PavilionTile:
    id: str
    name: str
    rooms: int
    ended: int = 0
    replays: int = 0  # public replays (issue 15 §6): the tile links to them


@dataclass(frozen=True)
class LobbyView:
    live: list[RoomCard]
    upcoming: list[RoomCard]
    pavilions: list[PavilionTile]
    ended: list[RoomCard]
    replays: list[ReplayCard]
    pavilion: PavilionTile | None = None  # ?pavilion=: the replays shown are this one's


async def build_lobby(
    backend: Backend, renderer: Renderer, lang: Language, query: str, pavilion: str | None = None
) -> LobbyView:
    """Live rooms (most watched first), upcoming ones (soonest first), the latest ended ones
    (shown as ended, with their pavilion and replay), the seven pavilions with their replay
    counts, and the newest public replays (of ``pavilion`` only, when one is asked for).

    Trade meetings are private: they are never listed, found by the search or counted in a
    pavilion (their title names the buyer, their time is the exhibitor's agenda).
    """
    listed = [r for r in await backend.store.list_rooms() if is_listed(r)]
    replays = replay_cards(await ReplayDesk(backend.service).visible(None), lang,
                           lambda p: renderer.gettext(lang, PAVILION_NAMES[p]), query=query)
    rooms = [r for r in listed if is_public(r)]
    cards = []
    for room in listed:
        found, product = await _search(backend, room, query, lang)
        if found:
            cards.append(await _card(backend, renderer, room, lang, product))
    live = sorted((c for c in cards if c.state == RoomState.LIVE), key=lambda c: -c.present)
    upcoming = sorted(
        (c for c in cards if c.state == RoomState.SCHEDULED), key=lambda c: c.starts_at or "~"
    )
    ended = sorted((_with_replay(c, replays) for c in cards if c.state == RoomState.ENDED),
                   key=lambda c: c.starts_at or "", reverse=True)[:ENDED_SHOWN]
    counts = per_pavilion(replays)
    tiles = [
        PavilionTile(
            p.value,
            renderer.gettext(lang, PAVILION_NAMES[p]),
            sum(1 for r in rooms if r.pavilion is p),
            sum(1 for r in listed if r.pavilion is p and r.state is RoomState.ENDED),
            counts.get(p, 0),
        )
        for p in Pavilion
    ]
    chosen = next((t for t in tiles if t.id == pavilion), None)
    return LobbyView(live, upcoming, tiles, ended,
                     of_pavilion(replays, chosen.id if chosen else None), chosen)


def _with_replay(card: RoomCard, replays: list[ReplayCard]) -> RoomCard:
    """An ended room's card with a link to its newest public replay (``replays`` is newest
    first), when it has one."""
    newest = next((r for r in replays if r.room_id == card.id), None)
    return replace(card, replay_url=newest.url) if newest else card


def is_listed(room: Room) -> bool:
    """In the lobby at all: a broadcast or forum, ended ones too (never a meeting)."""
    return room.kind is not RoomKind.MEETING


def is_public(room: Room) -> bool:
    """Open to visitors: a broadcast or forum that has not ended (never a meeting)."""
    return is_listed(room) and room.state is not RoomState.ENDED


async def _search(
    backend: Backend, room: Room, query: str, lang: Language
) -> tuple[bool, str | None]:
    """Does ``room`` match ``query``, and through which product (its name in ``lang``)?

    Case-insensitive, over the exhibitor, the room's text and its product cards' names, each in
    every language: a Russian buyer finds a Chinese exhibitor's ginseng typing "женьшень".
    """
    needle = query.strip().casefold()
    if not needle:
        return True, None
    if _matches(needle, [room.exhibitor, room.id, *_texts(room.title), *_texts(room.description),
                         *_texts(room.host_name)]):
        return True, None
    if room.kind is not RoomKind.BROADCAST:
        return False, None
    for product in await backend.store.list_products(room.id):
        if _matches(needle, _texts(product.name)):
            return True, product.name.get(lang)
    return False, None


def _texts(text: LocalizedText) -> list[str]:
    return [text[lang] for lang in text]


def _matches(needle: str, haystack: list[str]) -> bool:
    return any(needle in text.casefold() for text in haystack)


async def _card(
    backend: Backend, renderer: Renderer, room: Room, lang: Language, product: str | None = None
) -> RoomCard:
    present = await Showroom(backend.service).watching(room)
    starts = room.starts_at.astimezone(UTC) if room.starts_at else None
    return RoomCard(
        id=room.id,
        kind=room.kind.value,
        kind_label=renderer.gettext(lang, KIND_NAMES[room.kind]),
        state=room.state.value,
        title=room.title.get(lang),
        description=room.description.get(lang),
        exhibitor=await host_name(backend, room, lang),
        pavilion_name=renderer.gettext(lang, PAVILION_NAMES[room.pavilion]),
        present=present,
        starts_at=starts.isoformat() if starts else None,
        starts_at_utc=_utc_text(starts),
        private=room.kind is RoomKind.MEETING,
        matched_product=product,
        languages=tuple(LANGUAGE_NAMES[code] for code in room.interpretation
                        if code in LANGUAGE_NAMES),
    )


async def host_name(backend: Backend, room: Room, lang: Language) -> str:
    """The room's exhibitor as a reader of ``lang`` sees it everywhere (lobby, room pages,
    chat, presence): the localized name of its trade profile, else its identity."""
    try:
        names = await backend.service.names_of(room, room.exhibitor)
    except RoomsError:  # the profile store is down: the identity still names the host
        names = None
    return names.get(lang) if names is not None else room.exhibitor


def _utc_text(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else None
