"""Values of the domain: rooms, six-language text, user text rules, product cards, rate limits."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from rooms.clock import FakeClock
from rooms.content import ProductCard, stream_id_key
from rooms.errors import InvalidInput, RateLimited
from rooms.participant import Participant, Role
from rooms.pavilion import Pavilion
from rooms.rate import Rate, RateLimits, TokenBucket
from rooms.room import Room, RoomKind
from rooms.text import LocalizedText, display_name, user_text

SIX = {"zh": "论坛", "en": "Forum", "ja": "フォーラム", "ko": "포럼", "ru": "Форум",
       "mn": "Форум"}


def test_pavilions_have_stable_ids() -> None:
    assert [p.value for p in Pavilion] == [
        "science-tech", "automobile", "northeast-asia", "jilin", "regions", "imported-goods",
        "new-media"]


def test_localized_text_falls_back_to_english_then_anything() -> None:
    text = LocalizedText(SIX)
    assert text.get("ja") == "フォーラム" and text["mn"] == "Форум" and len(text) == 6
    assert LocalizedText({"en": "Forum", "ru": ""}).get("ru") == "Forum"
    assert LocalizedText({"zh": "论坛"}).get("ko") == "论坛"
    assert LocalizedText({"zh": "论坛", "en": "F"}).get("ko", fallback="zh") == "论坛"
    assert LocalizedText().get("en") == ""
    assert LocalizedText({"en": "x"}).missing() == ["zh", "ja", "ko", "ru", "mn"]
    assert LocalizedText(SIX) == LocalizedText(dict(reversed(SIX.items())))
    assert hash(LocalizedText(SIX)) == hash(LocalizedText(dict(SIX)))
    with pytest.raises(InvalidInput) as bad:
        LocalizedText({"fr": "Forum"})
    assert bad.value.code == "bad_language"


@pytest.mark.parametrize(("name", "code"), [
    ("  Ли Мин  ", None), ("김민준", None), ("Бат-Эрдэнэ", None), ("", "name_empty"),
    ("   ", "name_empty"), ("x" * 65, "name_too_long"), ("evil\x00", "name_control_chars"),
    ("two\nlines", "name_control_chars"), ("abc\u202edcba", "name_control_chars"),
    ("\x9bcsi", "name_control_chars"),
])
def test_display_name_rules(name: str, code: str | None) -> None:
    if code is None:
        assert display_name(name) == name.strip()
    else:
        with pytest.raises(InvalidInput) as refused:
            display_name(name)
        assert refused.value.code == code


def test_user_text_is_kept_as_given() -> None:
    text = "  <script>alert(1)</script>\nline two\t"
    assert user_text(text, max_chars=100) is text  # escaping is the page's job
    for bad, code in (("", "message_empty"), (" \n ", "message_empty"),
                      ("x" * 101, "message_too_long"), ("bell\x07", "message_control_chars")):
        with pytest.raises(InvalidInput) as refused:
            user_text(bad, max_chars=100)
        assert refused.value.code == code
    with pytest.raises(InvalidInput) as question:
        user_text("", max_chars=5, what="question")
    assert question.value.code == "question_empty"


def test_room_validation() -> None:
    start = datetime.fromisoformat("2026-09-01T09:00:00+08:00")
    ok = Room(id="forum-1", kind=RoomKind.FORUM, pavilion=Pavilion.REGIONS,
              title=LocalizedText(SIX), starts_at=start, ends_at=start + timedelta(hours=1))
    assert Room.from_dict(ok.to_dict()) == ok
    assert Room.from_dict(ok.to_dict()).starts_at == start
    cases: list[tuple[dict[str, object], str]] = [
        ({"id": "Bad Id"}, "bad_room_id"),
        ({"id": "x" * 65}, "bad_room_id"),
        ({"starts_at": datetime(2026, 9, 1, 9)}, "naive_datetime"),
        ({"ends_at": start - timedelta(minutes=1)}, "bad_schedule"),
        ({"capacity": 0}, "bad_capacity"),
        ({"title": LocalizedText({"en": "x" * 201})}, "title_too_long"),
    ]
    for change, code in cases:
        with pytest.raises(InvalidInput) as refused:
            Room(**{**_fields(ok), **change})  # type: ignore[arg-type]
        assert refused.value.code == code, change


def _fields(room: Room) -> dict[str, object]:
    return {name: getattr(room, name) for name in room.__dataclass_fields__}


@pytest.mark.parametrize(("data", "code"), [
    ({"kind": "party"}, "bad_field"),
    ({"pavilion": "moon"}, "bad_field"),
    ({"starts_at": "next tuesday"}, "bad_field"),
    ({"capacity": "many"}, "bad_field"),
    ({"title": "New car launch"}, "bad_field"),
    ({"description": ["x"]}, "bad_field"),
    ({"invitees": "buyer"}, "bad_field"),
    ({"invitees": [1, 2]}, "bad_field"),
    ({"locked": "yes"}, "bad_field"),
    ({"title": {"en": 5}}, "bad_text"),
    ({"interpretation": "zh"}, "bad_field"),  # issue 17: a list of codes
    ({"interpretation": ["zh", "fr"]}, "bad_language"),
])
def test_room_from_dict_refuses_bad_fields(data: dict[str, object], code: str) -> None:
    base = {"id": "r1", "kind": "forum", "pavilion": "jilin", "title": {"en": "t"}}
    with pytest.raises(InvalidInput) as refused:
        Room.from_dict({**base, **data})
    assert refused.value.code == code
    with pytest.raises(InvalidInput) as missing:
        Room.from_dict({"id": "r1"})
    assert missing.value.code == "missing_field"


def test_participant_round_trip_and_language() -> None:
    who = Participant(identity="u", room_id="r", name="Ли", role=Role.SPEAKER, language="ru",
                      on_stage=True, expires_at=5.0)
    assert Participant.from_dict(who.to_dict()) == who
    assert who.publishes and not who.update(muted=True).publishes
    with pytest.raises(InvalidInput):
        who.update(language="xx")


@pytest.mark.parametrize(("change", "code"), [
    ({"currency": "yuan"}, "bad_currency"), ({"price": Decimal("-1")}, "bad_price"),
    ({"price": Decimal("NaN")}, "bad_price"), ({"link": "javascript:alert(1)"}, "bad_url"),
    ({"picture_url": "ftp://x"}, "bad_url"), ({"id": "a b"}, "bad_product_id"),
])
def test_product_card_validation(change: dict[str, object], code: str) -> None:
    base: dict[str, object] = {"id": "p1", "room_id": "r1", "name": LocalizedText(SIX),
                               "price": Decimal("398.00"), "currency": "CNY",
                               "link": "https://expo.example/p1", "request_quote": True}
    card = ProductCard(**base)  # type: ignore[arg-type]
    assert ProductCard.from_dict(card.to_dict()) == card
    with pytest.raises(InvalidInput) as refused:
        ProductCard(**{**base, **change})  # type: ignore[arg-type]
    assert refused.value.code == code
    with pytest.raises(InvalidInput) as price:
        ProductCard.from_dict({**card.to_dict(), "price": "cheap"})
    assert price.value.code == "bad_price"
    with pytest.raises(InvalidInput) as name:
        ProductCard.from_dict({**card.to_dict(), "name": "Ginseng"})
    assert name.value.code == "bad_field"


def test_stream_ids_order_numerically() -> None:
    assert stream_id_key("10-0") > stream_id_key("9-5") > stream_id_key("9-4")
    assert stream_id_key("7") == (7, 0)
    for bad in ("", "a-1", "1-b", "-1", "1" * 41):
        with pytest.raises(InvalidInput):
            stream_id_key(bad)


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(Rate(per_second=2.0, burst=3), now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.25) == pytest.approx(0.25), "a refusal spends nothing"
    assert bucket.take(0.5) == 0.0
    assert bucket.take(100.0) == 0.0 and bucket.take(100.0) == 0.0
    assert bucket.take(100.0) == 0.0 and bucket.take(100.0) > 0, "never above the burst"
    with pytest.raises(ValueError):
        Rate(per_second=0, burst=1)


def test_rate_limits_per_participant_and_bounded() -> None:
    clock = FakeClock()
    limits = RateLimits({"chat": Rate(1.0, 2)}, clock, max_buckets=3)
    limits.check("r", "a", "chat")
    limits.check("r", "a", "chat")
    with pytest.raises(RateLimited) as limited:
        limits.check("r", "a", "chat")
    assert limited.value.code == "rate_limited" and limited.value.retry_after_s == 1.0
    limits.check("r", "b", "chat")  # another participant has its own bucket
    clock.advance(1.0)
    limits.check("r", "a", "chat")
    limits.forget("r", "a")
    limits.check("r", "a", "chat")
    limits.check("r", "a", "chat")
    for who in ("c", "d", "e"):  # evicts the least recently used
        limits.check("r", who, "chat")
    assert len(limits) == 3


def test_room_interpretation_languages_round_trip() -> None:
    """Issue 17: the languages a forum announces (the lobby's card shows them)."""
    room = Room.from_dict({"id": "r1", "kind": "forum", "pavilion": "jilin",
                           "title": {"en": "t"}, "interpretation": ["ko", "mn"]})
    assert room.interpretation == ("ko", "mn")
    assert Room.from_dict(room.to_dict()) == room
    assert Room.from_dict({**room.to_dict(), "interpretation": None}).interpretation == ()
