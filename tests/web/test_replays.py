"""The lobby's replays (issue 15 §6) and who may open a replay page (docs/recordings.md §3), as
pure functions over records: newest first, only published recordings of public rooms, counted
per pavilion; the watch rule table-tested."""

from __future__ import annotations

import pytest

from rooms.pavilion import Pavilion
from rooms.recording import Recording, RecordingState
from rooms.room import Room, RoomKind
from rooms.text import LocalizedText
from rooms.token import AccessToken, Grant
from web.replay_page import may_watch
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


def rec(rec_id: str, room: str, started_at: float, *, published: bool = True, title: str = "",
        state: RecordingState = RecordingState.DONE, duration_s: float = 75.0) -> Recording:
    return Recording(id=f"rec_{rec_id:0<10}", room=room, room_kind=ROOMS[room].kind,
                     node="n1", state=state, started_at=started_at, duration_s=duration_s,
                     title=title, published=published, owner=ROOMS[room].exhibitor)


def names(pavilion: Pavilion) -> str:
    return f"<{pavilion.value}>"


def test_only_published_finished_recordings_of_public_rooms_newest_first() -> None:
    recordings = [
        rec("old", "tea-live", 1_000), rec("new", "forum-a", 3_000, title="Opening speech"),
        rec("hidden", "tea-live", 4_000, published=False),
        rec("meeting", "deal", 5_000),  # a meeting's recording is the organiser's only
        rec("live", "tea-live", 6_000, state=RecordingState.RECORDING),
    ]
    cards = replay_cards(recordings, ROOMS, "ru", names)
    assert [c.id for c in cards] == ["rec_new0000000", "rec_old0000000"]
    assert cards[0].title == "Opening speech" and cards[0].room_title == "Forum A"
    assert cards[1].title == "Чай в эфире"  # no title of its own: the room's, in ru
    assert cards[1].pavilion_name == "<jilin>" and cards[1].url == "/replay/rec_old0000000?lang=ru"
    assert cards[1].started_at == "1970-01-01T00:16:40+00:00" and cards[1].duration == "1:15"


def test_search_and_pavilions() -> None:
    recordings = [rec("a", "tea-live", 1), rec("b", "forum-a", 2), rec("c", "tea-live", 3)]
    cards = replay_cards(recordings, ROOMS, "en", names)
    assert per_pavilion(cards) == {Pavilion.JILIN: 2, Pavilion.NORTHEAST_ASIA: 1}
    assert [c.id for c in of_pavilion(cards, "jilin")] == ["rec_c000000000", "rec_a000000000"]
    assert len(of_pavilion(cards, None)) == 3
    assert [c.id for c in replay_cards(recordings, ROOMS, "en", names, query="FORUM")] == [
        "rec_b000000000"]


def test_a_recording_whose_room_is_gone_still_lists() -> None:
    gone = Recording(id="rec_gone000000", room="deleted-room", room_kind=RoomKind.BROADCAST,
                     node="n1", state=RecordingState.DONE, started_at=1, published=True)
    [card] = replay_cards([gone], ROOMS, "en", names)
    assert (card.title, card.pavilion, card.pavilion_name) == ("deleted-room", "", "")


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0:00"), (59.9, "0:59"), (61, "1:01"), (3600, "1:00:00"), (3723, "1:02:03"), (-3, "0:00")])
def test_clock(seconds: float, text: str) -> None:
    assert clock(seconds) == text


def token(room: str, identity: str, *grants: Grant) -> AccessToken:
    return AccessToken(identity=identity, room=room, grants=frozenset(grants), expires_at=2**40)


HOST = token("tea-live", "tea-co", Grant.JOIN)
MODERATOR = token("tea-live", "mod-1", Grant.JOIN, Grant.MODERATE)
VIEWER = token("tea-live", "visitor-1", Grant.JOIN)
OTHER_ROOM_HOST = token("forum-a", "tea-co", Grant.JOIN, Grant.MODERATE)
ORGANISER = token("*", "organiser", Grant.MODERATE)
MEETING_HOST = token("deal", "tea-co", Grant.JOIN, Grant.MODERATE)


@pytest.mark.parametrize(("recording", "access", "allowed"), [
    (rec("pub", "tea-live", 1), None, True),
    (rec("pub", "tea-live", 1, state=RecordingState.RECORDING), None, False),
    (rec("unpub", "tea-live", 1, published=False), None, False),
    (rec("unpub", "tea-live", 1, published=False), VIEWER, False),
    (rec("unpub", "tea-live", 1, published=False), HOST, True),
    (rec("unpub", "tea-live", 1, published=False), MODERATOR, True),
    (rec("unpub", "tea-live", 1, published=False), OTHER_ROOM_HOST, False),
    (rec("unpub", "tea-live", 1, published=False), ORGANISER, True),
    (rec("meet", "deal", 1), None, False),
    (rec("meet", "deal", 1), MEETING_HOST, False),
    (rec("meet", "deal", 1), ORGANISER, True),
])
def test_who_may_watch(recording: Recording, access: AccessToken | None, allowed: bool) -> None:
    assert may_watch(recording, ROOMS[recording.room], access) is allowed
