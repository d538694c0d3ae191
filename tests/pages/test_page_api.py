"""The pages' HTTP side without a browser: access decisions, the page API's refusals, escaping."""

from __future__ import annotations

import ast
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from config import LANGUAGES
from rooms.demo import LIVE_BROADCAST, LIVE_FORUM, MEETING
from rooms.room import RoomState
from rooms.token import Grant, verify
from signaling.errors import CODES as SIGNALING_CODES
from tests.fixtures.pavilion import TEST_SECRET, RunningApp, make_settings
from tests.pages.helpers import STAFF, token
from web.catalog import load_catalogs
from web.keys import BACKEND_KEY
from web.page_access import refused, visitor_for
from web.page_strings import ERRORS, FALLBACK_ERROR, client_strings
from web.room_pages import script_json

VIEWER = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)
Start = Callable[..., Awaitable[RunningApp]]


async def _call(method: str, url: str, tok: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    async with aiohttp.ClientSession() as http, http.request(
            method, url, json=body, headers=headers) as response:
        return response.status, await response.json()


def test_script_json_cannot_close_its_script_element() -> None:
    text = str(script_json({"name": "</script><script>alert(1)</script>&"}))
    assert "</script>" not in text and "<" not in text and "&" not in text


async def test_visitor_tokens_only_for_public_rooms(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    store = running.app[BACKEND_KEY].store
    settings = make_settings()
    broadcast, meeting = await store.get_room(LIVE_BROADCAST), await store.get_room(MEETING)
    assert broadcast is not None and meeting is not None
    visitor = visitor_for(settings, broadcast, None, visitor_name="Visitor 0001")
    access = verify(TEST_SECRET, visitor.token or "", room=LIVE_BROADCAST)
    assert access.grants == frozenset(VIEWER) and visitor.minted and not visitor.moderates
    assert visitor_for(settings, meeting, None, visitor_name="v") == refused("not_invited")
    assert visitor_for(settings, broadcast, None, visitor_name="v", staff_only=True).error == \
        "token_missing"
    other = token("host", LIVE_FORUM, STAFF)
    assert visitor_for(settings, broadcast, other, visitor_name="v").error == "wrong_room"
    host = visitor_for(settings, broadcast, token("changbai-foods", LIVE_BROADCAST, STAFF),
                       visitor_name="v")
    assert (host.role, host.moderates, host.publishes, host.minted) == ("host", True, True, False)


async def test_products_and_quotes_need_the_right_token(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    base = f"{running.url}/api/pages/rooms/{LIVE_BROADCAST}"
    host = token("changbai-foods", LIVE_BROADCAST, STAFF)
    viewer = token("visitor-1", LIVE_BROADCAST, VIEWER)
    status, body = await _call("POST", base + "/products", None, {"name": "Tea"})
    assert (status, body["ok"], body["error"]["code"]) == (401, False, "token_missing")
    status, body = await _call("POST", base + "/products", viewer, {"name": "Tea"})
    assert (status, body["error"]["code"]) == (403, "not_host")
    status, body = await _call("POST", base + "/products", host,
                               {"name": "Tea", "price": "abc", "currency": "CNY"})
    assert (status, body["error"]["code"]) == (400, "bad_price")
    status, body = await _call("POST", base + "/products", host,
                               {"name": "Tea", "price": "12.5", "currency": "cny",
                                "language": "en", "request_quote": True})
    assert status == 201 and body["product"]["currency"] == "CNY"
    product = body["product"]["id"]
    status, body = await _call("POST", base + "/products", host, {"name": "Cup", "currency": "CNY"})
    no_quotes = body["product"]["id"]
    status, body = await _call("POST", base + "/quotes", viewer, {"product": product})
    assert (status, body["error"]["code"]) == (403, "not_in_room"), "the gate answers first"
    await running.app[BACKEND_KEY].service.join(verify(TEST_SECRET, viewer), LIVE_BROADCAST)
    status, body = await _call("POST", base + "/quotes", viewer, {"product": "nope",
                                                                  "email": "li@example.cn"})
    assert (status, body["error"]["code"]) == (404, "no_such_product")
    status, body = await _call("POST", base + "/quotes", viewer, {"product": no_quotes,
                                                                  "email": "li@example.cn"})
    assert (status, body["error"]["code"]) == (403, "no_quotes")
    status, body = await _call("POST", base + "/quotes", viewer, {"product": product})
    assert (status, body["error"]["code"]) == (400, "contact_missing"), "how to reach the buyer"
    status, body = await _call("POST", base + "/quotes", viewer, {"product": product,
                                                                  "email": "li@example.cn"})
    assert status == 201 and body["request"]["requester"] == "visitor-1"
    status, body = await _call("GET", base + "/quotes", host)
    assert [q["product_id"] for q in body["requests"]] == [product]
    status, body = await _call("GET", base + "/quotes", viewer)
    assert (status, body["error"]["code"]) == (403, "not_host")
    status, body = await _call("GET", f"{running.url}/api/pages/live?lang=ru")
    assert body["rooms"][LIVE_BROADCAST]["text"] == "1 зритель"


async def test_unknown_room_is_a_translated_404(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    async with aiohttp.ClientSession() as http, http.get(
            f"{running.url}/watch/no-such-room?lang=ja", headers={"Accept": "text/html"}) as r:
        assert r.status == 404 and "ページが見つかりません" in await r.text()
    async with aiohttp.ClientSession() as http, http.get(
            f"{running.url}/forum/{LIVE_BROADCAST}?lang=ja", allow_redirects=False) as r:
        assert (r.status, r.headers["Location"]) == (302, f"/watch/{LIVE_BROADCAST}?lang=ja")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_error_code_has_a_sentence_in_every_language(lang: str) -> None:
    strings = client_strings(load_catalogs(), lang)  # type: ignore[arg-type]
    assert set(strings["errors"]) == set(ERRORS)
    english = client_strings(load_catalogs(), "en")
    for code, text in strings["errors"].items():
        assert text and ("_" not in code or code not in text)
        if lang != "en":
            assert text != english["errors"][code], code
    for key, text in strings["words"].items():
        assert text and (lang == "en" or text != english["words"][key]), key


# Every error code a person can meet must have a sentence (issue 6 §6: no raw code shown). The
# codes are read from the contract (docs/protocol.md) and from the code itself, so a new code
# added anywhere in rooms/, signaling/ or web/ without a sentence fails here.
ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
CODE_FIRST = {"InvalidInput", "NotAllowed", "RoomsError", "TokenError", "SignalingError",
              "PageApiError", "BookingConflict", "refused", "failure"}
CODE_SECOND = {"error"}  # web/admin_api.py, web/meetings_json.py: error(status, code, message)
Function = ast.FunctionDef | ast.AsyncFunctionDef


def documented_codes() -> set[str]:
    """The codes docs/protocol.md lists: connect refusals (§1), limits and error codes (§2)."""
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    connect = text[text.index("A refused connection"):]
    connect = connect[connect.index("`{code, message}`:"):connect.index("\n\n")]
    section = connect + text[text.index("### Limits"):text.index("## 3.")]
    return set(re.findall(r"`([a-z][a-z0-9_]*)`", re.sub(r"\([^)]*\)", "", section)))


def _code_default(func: Function) -> set[str]:
    """The default of a ``code`` parameter (``NoSuchRoom(..., code="no_such_room")``)."""
    return _argument_values(func, "code", []) if any(
        a.arg == "code" for a in func.args.args + func.args.kwonlyargs) else set()


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _code_arg(call: ast.Call) -> ast.expr | None:
    """The expression a refusal's code comes from: ``code=`` or the callee's code position."""
    for keyword in call.keywords:
        if keyword.arg == "code":
            return keyword.value
    name = _callee(call)
    position = 0 if name in CODE_FIRST else 1 if name in CODE_SECOND else None
    return call.args[position] if position is not None and len(call.args) > position else None


def _argument_values(func: Function, name: str, calls: list[ast.Call]) -> set[str]:
    """Constant values parameter ``name`` of ``func`` takes: its default and every call's."""
    positional = [a.arg for a in func.args.args]
    defaults = dict(zip(positional[::-1], func.args.defaults[::-1], strict=False))
    defaults |= {a.arg: d for a, d in zip(func.args.kwonlyargs, func.args.kw_defaults,
                                          strict=True) if d is not None}
    given = [defaults[name]] if name in defaults else []
    for call in (c for c in calls if _callee(c) == func.name):
        given += [k.value for k in call.keywords if k.arg == name]
        if name in positional and positional.index(name) < len(call.args):
            given.append(call.args[positional.index(name)])
    return {g.value for g in given if isinstance(g, ast.Constant) and isinstance(g.value, str)}


def _expand(func: Function, template: ast.JoinedStr, calls: list[ast.Call]) -> Iterator[str]:
    """``f"{what}_too_long"`` in ``func``: one code per value ``what`` is ever given."""
    (name,) = [v.value.id for v in template.values
               if isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name)]
    values = _argument_values(func, name, calls)
    assert values, f"{func.name}: cannot tell which codes f-string over {name!r} makes"
    for value in values:
        yield "".join(value if isinstance(part, ast.FormattedValue) else str(part.value)
                      for part in template.values
                      if isinstance(part, ast.Constant | ast.FormattedValue))


def raised_codes() -> set[str]:
    """Every literal (or f-string) error code rooms/, signaling/ and web/ refuse with."""
    trees = [ast.parse(path.read_text(encoding="utf-8"))
             for package in ("rooms", "signaling", "web")
             for path in (ROOT / package).rglob("*.py")]
    calls = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.Call)]
    codes = set(SIGNALING_CODES)
    for tree in trees:
        for func in (n for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
            codes.update(_code_default(func))
            for call in (n for n in ast.walk(func) if isinstance(n, ast.Call)):
                arg = _code_arg(call)
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                        and CODE.fullmatch(arg.value):
                    codes.add(arg.value)
                elif isinstance(arg, ast.JoinedStr):
                    codes.update(_expand(func, arg, calls))
    return codes


def test_the_code_harvest_sees_literal_templated_and_http_codes() -> None:
    """The harvest itself must work, or the next test would pass on an empty set."""
    codes = raised_codes()
    assert {"no_such_room", "question_control_chars", "product_name_too_long", "bad_pavilion",
            "reason_empty", "room_exists", "no_such_product", "sdp_too_large",
            "slot_taken"} <= codes
    assert {"token_expired", "event_rate_limited", "bad_offer"} <= documented_codes()


def test_every_documented_and_raised_code_has_a_sentence() -> None:
    missing = (documented_codes() | raised_codes()) - set(ERRORS)
    assert not missing, f"add a sentence to web/page_strings.py ERRORS for {sorted(missing)}"


def test_error_sentences_are_sentences_not_codes() -> None:
    for code, text in ERRORS.items():
        assert text[0].isupper() and text[-1] in ".…", (code, text)
        assert "_" not in text, (code, text)  # a raw code (they all have one) never shows
    assert ERRORS["internal_error"] == FALLBACK_ERROR


@pytest.mark.redis
async def test_quote_requests_are_seen_from_every_node(pavilion_app: Start, redis_url: str) -> None:
    """Two apps sharing one real redis-server: a quote asked on node B is listed on node A."""
    node_a = await pavilion_app(demo=True, redis_url=redis_url, node_id="node-a")
    node_b = await pavilion_app(demo=True, redis_url=redis_url, node_id="node-b")
    path = f"/api/pages/rooms/{LIVE_BROADCAST}"
    host = token("changbai-foods", LIVE_BROADCAST, STAFF)
    viewer = token("visitor-7", LIVE_BROADCAST, VIEWER)
    status, made = await _call("POST", node_a.url + path + "/products", host,
                               {"name": "Ginseng", "currency": "CNY", "request_quote": True})
    assert status == 201
    await node_b.app[BACKEND_KEY].service.join(verify(TEST_SECRET, viewer), LIVE_BROADCAST)
    status, asked = await _call("POST", node_b.url + path + "/quotes", viewer,
                                {"product": made["product"]["id"], "language": "ru",
                                 "phone": "+7 914 000 00 00"})
    assert status == 201, asked
    for node in (node_a, node_b):
        status, listed = await _call("GET", node.url + path + "/quotes", host)
        assert listed["requests"] == [asked["request"]], node.settings.node_id


async def test_quote_requests_are_paced_like_questions(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True, signaling={"chat_burst": 2, "chat_per_second": 0.01})
    path = f"{running.url}/api/pages/rooms/{LIVE_BROADCAST}/quotes"
    viewer = token("visitor-9", LIVE_BROADCAST, VIEWER)
    await running.app[BACKEND_KEY].service.join(verify(TEST_SECRET, viewer), LIVE_BROADCAST)
    body = {"product": "jilin-rice-5kg", "email": "b@example.com"}  # a demo card taking quotes
    assert [(await _call("POST", path, viewer, body))[0] for _ in range(2)] == [201, 201]
    async with aiohttp.ClientSession() as http, http.post(
            path, json=body, headers={"Authorization": f"Bearer {viewer}"}) as response:
        assert response.status == 429 and int(response.headers["Retry-After"]) >= 1
        assert (await response.json())["error"]["code"] == "rate_limited"


async def test_live_counts_never_list_meetings(pavilion_app: Start) -> None:
    running = await pavilion_app(demo=True)
    store = running.app[BACKEND_KEY].store
    meeting = await store.get_room(MEETING)
    assert meeting is not None
    await store.put_room(meeting.with_state(RoomState.LIVE))
    status, body = await _call("GET", f"{running.url}/api/pages/live")
    assert status == 200 and LIVE_BROADCAST in body["rooms"] and MEETING not in body["rooms"]
