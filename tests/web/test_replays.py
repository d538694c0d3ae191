"""The lobby's replays (issue 15 §6) as pure functions over the records the gate let a visitor
see: newest first, titled in the reader's language, searched, counted per pavilion."""

from __future__ import annotations

import pytest

from rooms.pavilion import Pavilion
from rooms.recording import Recording, RecordingState
from rooms.room import Room, RoomKind
from rooms.text import LocalizedText
from web.replays import clock, of_pavilion, per_pavilion, replay_cards

ROOMS = {
    "tea-live": Room(id="tea-live", kind=RoomKind.BROADCAST, pavilion=Pavilion.JILIN,
                     title=LocalizedText({"en": "Tea live", "ru": "Чай в эфире"}),
                     exhibitor="tea-co"),
    "forum-a": Room(id="forum-a", kind=RoomKind.FORUM, pavilion=Pavilion.NORTHEAST_ASIA,
                    title=LocalizedText({"en": "Forum A"})),
    "deal": Room(id="deal", kind=RoomKind.MEETING, pavilion=Pavilion.JILIN,
                 title=LocalizedText({"en": "A deal"}), exhibitor="tea-co"),
}


def rec(rec_id: str, room: str, started_at: float, *, title: str = "") -> Recording:
    return Recording(id=f"rec_{rec_id:0<10}", room=room, room_kind=ROOMS[room].kind,
                     node="n1", state=RecordingState.DONE, started_at=started_at,
                     duration_s=75.0, title=title, published=True, owner=ROOMS[room].exhibitor)


def names(pavilion: Pavilion) -> str:
    return f"<{pavilion.value}>"


def visible(*recordings: Recording) -> list[tuple[Recording, Room]]:
    return [(r, ROOMS[r.room]) for r in recordings]


def test_newest_first_titled_in_the_readers_language() -> None:
    cards = replay_cards(visible(rec("old", "tea-live", 1_000),
                                 rec("new", "forum-a", 3_000, title="Opening speech")), "ru", names)
    assert [c.id for c in cards] == ["rec_new0000000", "rec_old0000000"]
    assert cards[0].title == "Opening speech" and cards[0].room_title == "Forum A"
    assert cards[1].title == "Чай в эфире"  # no title of its own: the room's, in ru
    assert cards[1].pavilion_name == "<jilin>" and cards[1].url == "/replay/rec_old0000000?lang=ru"
    assert cards[1].started_at == "1970-01-01T00:16:40+00:00" and cards[1].duration == "1:15"
    assert cards[1].started_at_utc == "1970-01-01 00:16 UTC" and cards[1].room_id == "tea-live"


def test_search_and_pavilions() -> None:
    recordings = visible(rec("a", "tea-live", 1), rec("b", "forum-a", 2), rec("c", "tea-live", 3))
    cards = replay_cards(recordings, "en", names)
    assert per_pavilion(cards) == {Pavilion.JILIN: 2, Pavilion.NORTHEAST_ASIA: 1}
    assert [c.id for c in of_pavilion(cards, "jilin")] == ["rec_c000000000", "rec_a000000000"]
    assert len(of_pavilion(cards, None)) == 3
    assert [c.id for c in replay_cards(recordings, "en", names, query="FORUM")] == [
        "rec_b000000000"]


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0:00"), (59.9, "0:59"), (61, "1:01"), (3600, "1:00:00"), (3723, "1:02:03"), (-3, "0:00")])
def test_clock(seconds: float, text: str) -> None:
    assert clock(seconds) == text
