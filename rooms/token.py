"""Access tokens: HS256 JWTs that say who someone is and what they may do in which room.

Claims (DESIGN.md §6): ``iss`` (API key id), ``sub`` (identity), ``name`` (display name), ``room``,
``grants`` (a list of :class:`Grant` values), ``exp`` (required) and, for an interpreter (issue
17), ``languages``: the language codes they work between (``["ko", "zh"]``). Decoding pins
the algorithm to HS256, so ``alg: none`` and algorithm-confusion tokens are refused, and every
refusal is a :class:`TokenError` with its own ``code`` so clients can tell an expired token from
a forged one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import jwt

from config import LANGUAGES

ALGORITHM = "HS256"
DEFAULT_ISSUER = "pavilion"


class Grant(StrEnum):
    """What a token lets its bearer do in its room."""

    JOIN = "join"
    PUBLISH = "publish"
    SUBSCRIBE = "subscribe"
    CHAT = "chat"
    MODERATE = "moderate"
    CREATE = "create"
    HIDDEN = "hidden"
    RECORDER = "recorder"
    EXHIBIT = "exhibit"  # trade docking: an exhibitor's profile, slots and dashboard (issue 11)
    DELEGATE = "delegate"  # trade docking: a registered delegate who may request meetings
    INTERPRET = "interpret"  # issue 17: publish audio into a channel of one's ``languages``


class TokenError(Exception):
    """A token was refused; ``code`` is stable and machine-readable, the message is for logs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class AccessToken:
    """The verified content of a token."""

    identity: str
    room: str
    grants: frozenset[Grant]
    expires_at: int
    name: str = ""
    issuer: str = DEFAULT_ISSUER
    metadata: dict[str, str] = field(default_factory=dict, compare=False)
    languages: tuple[str, ...] = ()  # an interpreter's working languages (issue 17)

    def allows(self, grant: Grant) -> bool:
        return grant in self.grants

    def require(self, grant: Grant) -> None:
        """Raise ``TokenError('missing_grant')`` unless the token carries ``grant``."""
        if grant not in self.grants:
            raise TokenError("missing_grant", f"token lacks the {grant.value!r} grant")


def parse_grants(text: str | Iterable[str]) -> frozenset[Grant]:
    """``"publish,subscribe"`` (or a list) -> grants; an unknown name is a ``ValueError``."""
    names = text.split(",") if isinstance(text, str) else list(text)
    grants = set()
    for name in (n.strip() for n in names):
        if not name:
            continue
        try:
            grants.add(Grant(name))
        except ValueError:
            known = ", ".join(g.value for g in Grant)
            raise ValueError(f"unknown grant {name!r} (known: {known})") from None
    return frozenset(grants)


def parse_languages(text: str | Iterable[str]) -> tuple[str, ...]:
    """``"ko,zh"`` (or a list) -> ``("ko", "zh")``, de-duplicated in order; a code outside
    zh en ja ko ru mn is a ``ValueError`` (the six languages of the expo, config.LANGUAGES)."""
    names = text.split(",") if isinstance(text, str) else list(text)
    codes: list[str] = []
    for code in (n.strip() for n in names):
        if not code:
            continue
        if code not in LANGUAGES:
            raise ValueError(f"unknown language {code!r} (known: {', '.join(LANGUAGES)})")
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def mint(
    secret: str,
    *,
    identity: str,
    room: str,
    grants: Iterable[Grant],
    ttl_s: int,
    name: str = "",
    issuer: str = DEFAULT_ISSUER,
    now: float | None = None,
    languages: Iterable[str] = (),
) -> str:
    """Sign a token valid for ``ttl_s`` seconds from ``now``; ``languages`` (an interpreter's,
    issue 17) are checked by :func:`parse_languages` and written only when given."""
    if ttl_s <= 0:
        raise ValueError("ttl must be positive")
    if not identity or not room:
        raise ValueError("identity and room are required")
    codes = parse_languages(languages)
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "iss": issuer,
        "sub": identity,
        "name": name or identity,
        "room": room,
        "grants": sorted(g.value for g in grants),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_s,
    }
    if codes:
        claims["languages"] = list(codes)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(
    secret: str,
    token: str,
    *,
    room: str | None = None,
    require: Grant | None = None,
    leeway_s: int = 10,
    now: float | None = None,
) -> AccessToken:
    """Check signature, expiry, room and (optionally) one grant; raise :class:`TokenError`."""
    claims = _decode(secret, token, leeway_s, now)
    try:
        access = AccessToken(
            identity=_text(claims, "sub"),
            room=_text(claims, "room"),
            grants=_grants(claims.get("grants")),
            expires_at=_number(claims.get("exp")),
            name=str(claims.get("name") or claims["sub"]),
            issuer=str(claims.get("iss") or DEFAULT_ISSUER),
            languages=_languages(claims.get("languages")),
        )
    except (ValueError, TypeError) as exc:
        raise TokenError("token_invalid", f"malformed claims: {exc}") from None
    if room is not None and access.room not in (room, "*"):
        raise TokenError("wrong_room", f"token is for room {access.room!r}, not {room!r}")
    if require is not None:
        access.require(require)
    return access


def _decode(secret: str, token: str, leeway_s: int, now: float | None) -> dict[str, object]:
    options = {"require": ["exp", "sub"], "verify_exp": now is None, "verify_nbf": now is None}
    try:
        claims: dict[str, object] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options=options, leeway=leeway_s  # type: ignore[arg-type]
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token_expired", "token has expired") from None
    except jwt.InvalidSignatureError:
        raise TokenError("bad_signature", "token signature does not verify") from None
    except jwt.InvalidAlgorithmError:
        raise TokenError("bad_algorithm", "token is not signed with HS256") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError("token_invalid", f"token lacks the {exc.claim!r} claim") from None
    except jwt.PyJWTError as exc:
        raise TokenError("token_invalid", f"token is malformed: {exc}") from None
    if now is not None:
        _check_times(claims, now, leeway_s)
    return claims


def opens_at(secret: str, token: str, *, room: str, leeway_s: int = 10,
             now: float | None = None) -> float | None:
    """When an early token for ``room`` starts to work (its ``nbf``), or None.

    None unless the token is sound in every other way (signature, algorithm, claims, expiry,
    room) and only its ``nbf`` is still ahead: a meeting's join link opened before the meeting
    (rooms/trade/service.py mints it valid from a few minutes before the slot). A page uses it
    to say when the room opens instead of calling the link invalid.
    """
    at = time.time() if now is None else now
    options = {"require": ["exp", "sub", "nbf"], "verify_exp": False, "verify_nbf": False,
               "verify_iat": False}
    try:
        claims: dict[str, object] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options=options  # type: ignore[arg-type]
        )
    except jwt.PyJWTError:
        return None
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(nbf, int | float) or not isinstance(exp, int | float) or (
            isinstance(nbf, bool)):
        return None
    if claims.get("room") not in (room, "*") or at > exp + leeway_s or at >= nbf - leeway_s:
        return None
    return float(nbf)


def _check_times(claims: dict[str, object], now: float, leeway_s: int) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise TokenError("token_invalid", "token lacks a numeric 'exp' claim")
    if now > exp + leeway_s:
        raise TokenError("token_expired", "token has expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and now < nbf - leeway_s:
        raise TokenError("token_invalid", "token is not valid yet")


def _grants(value: object) -> frozenset[Grant]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("claim 'grants' must be a list of strings")
    return parse_grants(value)


def _languages(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("claim 'languages' must be a list of strings")
    return parse_languages(value)


def _number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("claim 'exp' must be a number")
    return int(value)


def _text(claims: dict[str, object], key: str) -> str:
    value = claims.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"claim {key!r} must be a non-empty string")
    return value
