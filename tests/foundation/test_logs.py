"""Log lines (issue 18 §3): JSON and text formats, their context, and the scrubbing of secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from config import load, log_context
from config.log_scrub import REDACTED, Scrubber, settings_secrets
from config.logs import JsonFormatter, TextFormatter, choose, formatter, timestamp

SECRET = "log-test-secret-0123456789abcdef0123456789"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvb20iOiJoYWxsIn0."
       "Qm9ndXNTaWduYXR1cmVPZkZvcnR5VGhyZWVDaGFyYWN0ZXJz")


def _record(msg: str, *args: object, level: int = logging.INFO, name: str = "web.rtc",
            exc: bool = False, **extra: object) -> logging.LogRecord:
    info = sys.exc_info() if exc else None
    record = logging.LogRecord(name, level, __file__, 1, msg, args, info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def _json(record: logging.LogRecord, secrets: tuple[str, ...] = (), node: str = "n1") -> dict:
    line = JsonFormatter(Scrubber(secrets), node).format(record)
    assert "\n" not in line  # one object per line, tracebacks included
    parsed: dict = json.loads(line)
    return parsed


def test_json_line_has_the_fields_and_the_bound_context() -> None:
    with log_context.bind(room="hall", session="s1-abcd", identity="alice", request_id="r-1"):
        line = _json(_record("joined %s", "hall"))
    assert line["msg"] == "joined hall" and line["level"] == "info" and line["logger"] == "web.rtc"
    assert (line["node"], line["room"], line["session"], line["identity"], line["request_id"]) == (
        "n1", "hall", "s1-abcd", "alice", "r-1")
    assert line["ts"].endswith("Z") and line["ts"][10] == "T" and len(line["ts"]) == 24
    outside = _json(_record("later"))
    assert "room" not in outside and "session" not in outside  # bind() ended


def test_extra_fields_and_a_traceback_as_one_string() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        line = _json(_record("failed", exc=True, peer="p1", track="alice/video0",
                             level=logging.ERROR))
    assert (line["peer"], line["track"], line["level"]) == ("p1", "alice/video0", "error")
    assert line["exc"].startswith("Traceback") and "ValueError: boom" in line["exc"]


def test_text_line_is_readable_with_key_value_context() -> None:
    with log_context.bind(room="hall", identity="Ann Lee"):
        text = TextFormatter(Scrubber(), "n1").format(_record("peer %s ended", "p9"))
    assert " INFO web.rtc: peer p9 ended " in text
    assert text.endswith(' room=hall identity="Ann Lee" node=n1')


def test_timestamp_is_rfc3339_utc() -> None:
    assert timestamp(0.5) == "1970-01-01T00:00:00.500Z"


async def test_tasks_started_inside_bind_carry_its_context() -> None:
    seen: list[dict[str, str]] = []

    async def later() -> None:
        await asyncio.sleep(0)
        seen.append(log_context.current())

    with log_context.bind(room="hall", peer="p1"):
        task = asyncio.get_running_loop().create_task(later())
    await task
    assert seen == [{"room": "hall", "peer": "p1"}]


@pytest.mark.parametrize(("offered", "kept"), [
    ("abc-123.X:9", True), ("", False), (None, False), ("a b", False), ("x" * 129, False),
    ("id\n{\"level\":\"error\"}", False)])
def test_request_id_is_taken_only_when_sane(offered: str | None, kept: bool) -> None:
    made = log_context.request_id(offered)
    assert (made == offered) is kept and 1 <= len(made) <= 128


@pytest.mark.parametrize(("text", "gone", "kept"), [
    (f"token {JWT} refused", JWT, "refused"),
    (f"GET /watch/hall?token={JWT[:20]}abc&lang=ja", "abc&", "lang=ja"),
    ("GET /hls/hall/x.m3u8?exp=99&sig=00ffee11 200", "00ffee11", "exp=99"),
    ("GET /api/admin?key=hunter2hunter2 401", "hunter2hunter2", "401"),
    ("headers {'Authorization': 'Bearer abc.def.ghi', 'Accept': '*/*'}", "abc.def.ghi", "Accept"),
    ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "Authorization"),
    ("a=ice-ufrag:Fx2b\r\na=ice-pwd:S3cretIcePassw0rdValue\r\n", "S3cretIcePassw0rdValue",
     "a=ice-ufrag:Fx2b"),
    ("a=fingerprint:sha-256 AB:CD:EF", REDACTED, "a=fingerprint:sha-256 AB:CD:EF"),
    ("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
     "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9", "AES_CM_128_HMAC_SHA1_80"),
    ('{"username": "1700000000:alice", "credential": "c2VjcmV0Y3JlZA=="}', "c2VjcmV0Y3JlZA==",
     "1700000000:alice"),
    ("Connection(remote_password='9f8e7d6c5b4a', ufrag='ab')", "9f8e7d6c5b4a", "ufrag='ab'"),
])
def test_credential_shapes_are_scrubbed(text: str, gone: str, kept: str) -> None:
    clean = Scrubber()(text)
    assert gone not in clean and kept in clean


def test_known_secrets_are_scrubbed_wherever_they_appear() -> None:
    scrub = Scrubber([SECRET, "short"])  # under 8 characters: never a secret, never replaced
    assert scrub(f"signing with{SECRET}!") == f"signing with{REDACTED}!"
    assert scrub("a short line") == "a short line"
    line = _json(_record("bad %s", SECRET), secrets=(SECRET,))
    assert SECRET not in json.dumps(line)


def test_the_secrets_of_settings_include_turn_and_webhooks() -> None:
    settings = load(env={}, overrides={
        "secret": SECRET, "api_key": "k" * 40, "port": 0,
        "turn": {"urls": ["turn:t.example:3478"], "shared_secret": "t" * 40}})
    assert set(settings_secrets(settings)) == {SECRET, "k" * 40, "t" * 40}
    hooked = SimpleNamespace(secret=SecretStr("x" * 32), webhooks=[
        {"url": "https://crm.example/hook", "secret": "w" * 32},
        SimpleNamespace(url="https://b.example", secret=SecretStr("v" * 32))])
    assert set(settings_secrets(hooked)) == {"x" * 32, "w" * 32, "v" * 32}
    text = formatter("text", settings, node="n1").format(_record("key %s", "k" * 40))
    assert "k" * 40 not in text and REDACTED in text


class _Tty:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_auto_is_text_on_a_terminal_and_json_elsewhere() -> None:
    assert choose("auto", _Tty(True)) == "text"  # type: ignore[arg-type]
    assert choose("auto", _Tty(False)) == "json"  # type: ignore[arg-type]
    assert choose("json", _Tty(True)) == "json"  # type: ignore[arg-type]
    assert load(env={"PAVILION_LOG_FORMAT": "json"}, overrides={"port": 0}).log_format == "json"
