"""``Caller.of``: what each kind of token may do in trade docking (a pure table, issue 11)."""

from __future__ import annotations

import pytest

from rooms.errors import NotAllowed
from rooms.token import AccessToken, Grant
from rooms.trade.caller import Caller

J, M, E, D = Grant.JOIN, Grant.MODERATE, Grant.EXHIBIT, Grant.DELEGATE
VISITOR = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)  # web/page_access.py VISITOR_GRANTS


def caller(identity: str, room: str, *grants: Grant) -> Caller:
    token = AccessToken(identity=identity, room=room, grants=frozenset(grants), expires_at=1)
    return Caller.of(token, client="192.0.2.7")


def refusal(check: object) -> str | None:
    try:
        check()  # type: ignore[operator]
    except NotAllowed as exc:
        return exc.code
    return None


@pytest.mark.parametrize(("who", "exhibit_faw", "team_faw", "book"), [
    (caller("visitor-ab12", "expo-stage", *VISITOR), "not_exhibitor", "not_exhibitor",
     "not_delegate"),
    (caller("faw", "*", J, E), None, None, "not_delegate"),
    (caller("faw-li", "*", E), "not_your_exhibitor", None, "not_delegate"),
    (caller("mallory", "*", J, E), "not_your_exhibitor", "not_your_exhibitor", "not_delegate"),
    (caller("faw", "*", J), "not_exhibitor", "not_exhibitor", "not_delegate"),
    (caller("kim", "*", D), "not_exhibitor", "not_exhibitor", None),
    (caller("kim", "mtg-r-1", D), "not_exhibitor", "not_exhibitor", None),
    (caller("office", "*", J, M), None, None, None),
    (caller("host", "hall-1", J, M), "not_exhibitor", "not_exhibitor", "not_delegate"),
])
def test_what_a_token_allows(who: Caller, exhibit_faw: str | None, team_faw: str | None,
                             book: str | None) -> None:
    assert refusal(lambda: who.may_exhibit("faw")) == exhibit_faw
    assert refusal(lambda: who.may_exhibit("faw", frozenset({"faw-li"}))) == team_faw
    assert refusal(who.may_request) == book
    assert who.client == "192.0.2.7"
