"""The suite-wide secret check (tests/fixtures/log_scan.py) itself: it finds a secret in a log
line, and a pytest run (one process, and pytest-xdist workers) that logs one exits red."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.fixtures import log_scan

ROOT = Path(__file__).resolve().parents[2]
LEAKY = '''
import logging
LEAK_SECRET = "inner-secret-0123456789abcdef"

def test_logs_a_secret():
    logging.getLogger("web.inner").info("signing with %s", LEAK_SECRET)
'''
CLEAN = LEAKY.replace('"signing with %s", LEAK_SECRET', '"signing with the secret"')


def test_harvest_takes_constants_named_like_secrets() -> None:
    module = ModuleType("tests.fake")
    module.TURN_SECRET = "t" * 32  # type: ignore[attr-defined]
    module.SECRETS = {"PAVILION_SECRET": "s" * 32, "port": 8080}  # type: ignore[attr-defined]
    module.API_KEY = "short"  # type: ignore[attr-defined]  # under 12 characters: not taken
    module.ROOM = "a-room-name-that-is-long"  # type: ignore[attr-defined]
    assert log_scan.harvest([module]) == {"t" * 32: "tests.fake.TURN_SECRET",
                                          "s" * 32: "tests.fake.SECRETS"}


def test_scan_finds_secrets_and_jwts(tmp_path: Path) -> None:
    secrets = {"k" * 32: "tests.x.API_KEY"}
    assert log_scan.scan_line('{"msg": "kkkk"}', secrets) is None
    assert log_scan.scan_line(f'{{"msg": "key {"k" * 32}"}}', secrets) == "tests.x.API_KEY"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLW9mLWEtdG9rZW4"
    assert log_scan.scan_line(f"token {jwt}", {}) == "a JWT"
    path = tmp_path / "gw0.jsonl"
    path.write_text('{"msg": "fine"}\n{"msg": "' + "k" * 32 + '"}\n')
    found = log_scan.scan_files([path], secrets)
    assert [(f.file, f.line_no, f.what) for f in found] == [("gw0.jsonl", 2, "tests.x.API_KEY")]


def test_the_handler_writes_scrubbed_json_lines(tmp_path: Path) -> None:
    handler = log_scan.ScanHandler(tmp_path / "main.jsonl")
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLW9mLWEtdG9rZW4"
    for name, level in (("web.x", logging.DEBUG), ("aioice.ice", logging.DEBUG),
                        ("aioice.ice", logging.WARNING)):
        record = logging.LogRecord(name, level, __file__, 1, "t %s", (jwt,), None)
        if handler.filter(record):
            handler.emit(record)
    handler.close()
    lines = (tmp_path / "main.jsonl").read_text().splitlines()
    assert len(lines) == 2 and jwt not in "".join(lines)  # aioice's DEBUG is not kept


def _run(tmp_path: Path, body: str, *workers: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_leak.py").write_text(body)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.fixtures.log_scan", "-p",
         "no:cacheprovider", "--rootdir", str(tmp_path), *workers, str(tmp_path / "test_leak.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one-process", "xdist"])
def test_a_run_that_logs_a_secret_is_red(tmp_path: Path, workers: tuple[str, ...]) -> None:
    leaky = _run(tmp_path, LEAKY, *workers)
    assert leaky.returncode == 1, leaky.stdout + leaky.stderr
    assert "1 passed" in leaky.stdout and "secrets in log lines" in leaky.stdout
    assert "test_leak.LEAK_SECRET in " in leaky.stdout, leaky.stdout
    clean = _run(tmp_path, CLEAN, *workers)
    assert clean.returncode == 0, clean.stdout + clean.stderr
