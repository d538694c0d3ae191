"""Access tokens: valid ones pass; every kind of bad one is refused with its own code."""

from __future__ import annotations

import time
import warnings

import jwt
import pytest

from rooms.token import Grant, TokenError, mint, parse_grants, verify

SECRET = "k" * 32


def good(**kw: object) -> str:
    args: dict[str, object] = {
        "identity": "alice",
        "room": "expo-stage",
        "ttl_s": 600,
        "grants": parse_grants("join,publish,subscribe"),
    }
    args.update(kw)
    return mint(SECRET, **args)  # type: ignore[arg-type]


def test_round_trip() -> None:
    access = verify(SECRET, good(name="Alice Ли"), room="expo-stage", require=Grant.PUBLISH)
    assert access.identity == "alice" and access.name == "Alice Ли"
    assert access.grants == {Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE}
    assert access.expires_at > time.time()


def test_wildcard_room_token_fits_every_room() -> None:
    assert verify(SECRET, good(room="*"), room="any-room").room == "*"


def refuse(token: str, **kw: object) -> str:
    with pytest.raises(TokenError) as info:
        verify(SECRET, token, **kw)  # type: ignore[arg-type]
    return info.value.code


def test_wrong_room() -> None:
    assert refuse(good(), room="other-room") == "wrong_room"


def test_expired() -> None:
    assert refuse(good(ttl_s=1, now=time.time() - 3600)) == "token_expired"


def test_expired_within_leeway_is_accepted() -> None:
    verify(SECRET, good(ttl_s=1, now=time.time() - 5), leeway_s=10)


def test_bad_signature() -> None:
    assert refuse(mint("x" * 32, identity="a", room="r", grants=[], ttl_s=60)) == "bad_signature"


def test_alg_none_is_refused() -> None:
    forged = jwt.encode(
        {
            "sub": "mallory",
            "room": "expo-stage",
            "grants": ["moderate"],
            "exp": int(time.time()) + 600,
        },
        None,
        algorithm="none",
    )
    assert refuse(forged) == "bad_algorithm"


def test_other_hmac_algorithm_is_refused() -> None:
    with warnings.catch_warnings():  # PyJWT warns that a 32-byte key is short for HS512
        warnings.simplefilter("ignore")
        forged = jwt.encode(
            {"sub": "m", "room": "r", "exp": int(time.time()) + 600}, SECRET, algorithm="HS512"
        )
    assert refuse(forged) == "bad_algorithm"


def test_missing_grant() -> None:
    assert refuse(good(grants=[Grant.SUBSCRIBE]), require=Grant.PUBLISH) == "missing_grant"


def test_missing_exp_and_garbage() -> None:
    no_exp = jwt.encode({"sub": "a", "room": "r"}, SECRET, algorithm="HS256")
    assert refuse(no_exp) == "token_invalid"
    assert refuse("not.a.token") == "token_invalid"
    assert refuse("") == "token_invalid"


def test_unknown_grant_in_claims_is_invalid() -> None:
    odd = jwt.encode(
        {"sub": "a", "room": "r", "grants": ["fly"], "exp": int(time.time()) + 60},
        SECRET,
        algorithm="HS256",
    )
    assert refuse(odd) == "token_invalid"


def test_parse_grants_names_the_bad_one() -> None:
    with pytest.raises(ValueError, match="unknown grant 'fly'"):
        parse_grants("join,fly")


@pytest.mark.parametrize("grants", ["publish", {"publish": True}, [1, 2]])
def test_grants_claim_must_be_a_list_of_names(grants: object) -> None:
    odd = jwt.encode({"sub": "a", "room": "r", "grants": grants, "exp": int(time.time()) + 60},
                     SECRET, algorithm="HS256")
    assert refuse(odd) == "token_invalid"
