"""The one HTTP API layer under the page, meetings and admin APIs (docs/pages.md,
docs/meetings-api.md, docs/admin-api.md): who calls, what they sent, how a refusal reads.

- :func:`bearer` / :func:`access_token`: the access token of ``Authorization: Bearer``, or, for
  a GET a browser starts as a download, ``?access_token=`` (RFC 6750 §2.3) where the API allows
  it; verified into an :class:`~rooms.token.AccessToken` (the room is the gate's business).
- :func:`body`: the request body, bounded (:data:`MAX_BODY` bytes), parsed without recursion
  limits to fall over (:mod:`web.json_body`), validated against a pydantic model in strict mode.
  A bad field is 400 with the field's name and the reason.
- :func:`failure`: ONE error table from domain errors to statuses, and one error body
  ``{"ok": false, "error": {"code", "message"}}`` for all three APIs.

A handler reads a request with these, asks one service, and :func:`reply` translates the answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from rooms.errors import (
    InvalidInput,
    NoNodeAvailable,
    NoSuchRoom,
    NotAllowed,
    RateLimited,
    RoomFull,
    RoomsError,
    StoreUnavailable,
    WrongNode,
)
from rooms.token import AccessToken, TokenError, verify
from rooms.trade.store import BookingConflict
from web import json_body
from web.keys import SETTINGS_KEY

MAX_BODY = 64 * 1024
MAX_TOKEN_CHARS = 4096
STORE_RETRY_AFTER_S = 5
# Most specific first: the first class an error is an instance of gives its status.
STATUS: tuple[tuple[type[RoomsError], int], ...] = (
    (InvalidInput, 400), (NotAllowed, 403), (NoSuchRoom, 404), (BookingConflict, 409),
    (RoomFull, 409), (WrongNode, 409), (RateLimited, 429), (StoreUnavailable, 503),
    (NoNodeAvailable, 503),
)
TOKEN_FORBIDDEN = frozenset({"wrong_room", "missing_grant"})  # a good token, not for this
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound="Body")


class Body(BaseModel):
    """Base of every request body: strict types (no ``"1"`` for 1, no ``1`` for ``"1"``),
    immutable, unknown keys ignored (a newer client may send more)."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")
    # A top-level field -> the code a bad value of it has (``ttl_s`` -> ``bad_ttl``), where an
    # API had a more precise code than ``bad_field`` before the models; clients keep it.
    codes: ClassVar[Mapping[str, str]] = {}

    def fields(self) -> dict[str, Any]:
        """The fields the client sent (``None`` ones left out), as the domain reads them."""
        return self.model_dump(exclude_none=True)


def reply(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with text as text (``ensure_ascii=False``): six languages stay readable."""
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


def error(status: int, code: str, message: str) -> web.Response:
    """The one error body: ``{"ok": false, "error": {"code", "message"}}``."""
    return reply({"ok": False, "error": {"code": code, "message": message}}, status=status)


def failure(exc: RoomsError | TokenError, *, realm: str = "pavilion") -> web.Response:
    """The answer to a refusal, by the one table: 400 bad input, 401 token (with
    ``WWW-Authenticate``), 403 not allowed, 404 unknown, 409 conflict or full, 429 and 503
    with ``Retry-After``."""
    if isinstance(exc, TokenError):
        if exc.code in TOKEN_FORBIDDEN:
            return error(403, exc.code, str(exc))
        response = error(401, exc.code, str(exc))
        response.headers["WWW-Authenticate"] = f'Bearer realm="{realm}", error="invalid_token"'
        return response
    status = next((s for cls, s in STATUS if isinstance(exc, cls)), 400)
    response = error(status, exc.code, exc.message)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
    elif isinstance(exc, StoreUnavailable):
        response.headers["Retry-After"] = str(STORE_RETRY_AFTER_S)
    return response


def api(handler: Handler, *, realm: str = "pavilion") -> Handler:
    """``handler`` with every domain and token refusal answered by :func:`failure`; anything
    else stays a bug (500)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (RoomsError, TokenError) as exc:
            return failure(exc, realm=realm)

    return wrapped


def bearer(request: web.Request, *, from_query: bool = False) -> str:
    """The token of ``Authorization: Bearer``; with ``from_query``, a GET may instead carry
    ``?access_token=`` (RFC 6750 §2.3: downloads a browser starts). ``token_missing`` if none."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    text = given.strip() if scheme.lower() == "bearer" else ""
    if not text and from_query and request.method == "GET":
        text = request.query.get("access_token", "").strip()
    if not text:
        raise TokenError("token_missing", "send Authorization: Bearer <access token>")
    if len(text) > MAX_TOKEN_CHARS:
        raise TokenError("token_invalid", f"token longer than {MAX_TOKEN_CHARS} characters")
    return text


def access_token(request: web.Request, *, from_query: bool = False) -> AccessToken:
    """The request's verified access token (any room: the gate decides which it may touch)."""
    settings = request.app[SETTINGS_KEY]
    return verify(settings.secret_value(), bearer(request, from_query=from_query),
                  leeway_s=settings.token_leeway_s)


async def read_json(request: web.Request, *, max_bytes: int = MAX_BODY) -> Any:
    """The JSON value of the body (an empty body reads as ``{}``), at most ``max_bytes`` and
    :data:`web.json_body.MAX_DEPTH` levels deep; ``InvalidInput`` (``body_too_large``,
    ``bad_json``) otherwise."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise InvalidInput("body_too_large", f"request body over {max_bytes} bytes")
    raw = await request.content.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise InvalidInput("body_too_large", f"request body over {max_bytes} bytes")
    return json_body.loads(raw) if raw.strip() else {}


async def body(request: web.Request, model: type[M], *, max_bytes: int = MAX_BODY) -> M:
    """The body as ``model``; ``bad_json`` unless it is a JSON object, ``missing_field`` or
    ``bad_field`` (or a model's own code) naming the first field at fault."""
    return validated(model, await read_json(request, max_bytes=max_bytes))


def validated(model: type[M], data: Any) -> M:
    """``data`` (a parsed JSON value) as ``model``, or the ``InvalidInput`` that names why."""
    if not isinstance(data, dict):
        raise InvalidInput("bad_json", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise field_error(exc, model.codes) from None


def field_error(exc: ValidationError, codes: Mapping[str, str]) -> InvalidInput:
    """The first complaint of ``exc`` as ``InvalidInput``: ``field: reason``. A missing field
    is ``missing_field``; a validator's ``PydanticCustomError`` type is its code
    (``bad_price``); else the field's code in ``codes``, or ``bad_field``."""
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    kind = str(first["type"])
    if kind == "missing":
        code = "missing_field"
    elif kind.startswith("bad_"):
        code = kind
    else:
        code = codes.get(str(first["loc"][0]) if first["loc"] else "", "bad_field")
    return InvalidInput(code, f"{where}: {first['msg']}"[:300])


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
