"""The ``pavilion`` command as a person runs it: version, tokens, and configuration errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rooms.token import Grant, verify

ROOT = Path(__file__).resolve().parents[2]
SECRET = "cli-secret-0123456789-0123456789-abcdef"


def pavilion(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": "/usr/bin:/bin", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version() -> None:
    result = pavilion("--version")
    assert result.returncode == 0 and result.stdout.startswith("pavilion ")


def test_bad_port_is_one_line_and_status_2() -> None:
    result = pavilion("serve", "--port", "notanumber")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "port" in result.stderr and "notanumber" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_toml_key_is_one_line_and_status_2(tmp_path: Path) -> None:
    config = tmp_path / "pavilion.toml"
    config.write_text('port = 8080\nbogus_key = "x"\n', encoding="utf-8")
    result = pavilion("serve", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.strip() == "pavilion: configuration error: bogus_key: unknown setting"


def test_bad_env_value_is_one_line() -> None:
    result = pavilion("serve", env={"PAVILION_MEDIA__MAX_SDP_BYTES": "lots"})
    assert result.returncode == 2
    assert result.stderr.startswith("pavilion: configuration error: media.max_sdp_bytes:")


def test_token_command_mints_a_verifiable_token() -> None:
    result = pavilion(
        "token",
        "--room",
        "launch",
        "--identity",
        "obs",
        "--grants",
        "publish,create",
        "--ttl",
        "15m",
        env={"PAVILION_SECRET": SECRET},
    )
    assert result.returncode == 0, result.stderr
    access = verify(SECRET, result.stdout.strip(), room="launch", require=Grant.PUBLISH)
    assert access.identity == "obs" and access.grants == {Grant.PUBLISH, Grant.CREATE}


def test_token_needs_a_secret_and_good_values(tmp_path: Path) -> None:
    no_secret = pavilion("token", "--room", "r", "--identity", "i",
                         env={"PAVILION_STATE_DIR": str(tmp_path)})
    assert no_secret.returncode == 2 and "no demo secret yet" in no_secret.stderr
    not_demo = pavilion("token", "--room", "r", "--identity", "i",
                        env={"PAVILION_DEMO": "false", "PAVILION_STATE_DIR": str(tmp_path)})
    assert not_demo.returncode == 2 and "secret: required" in not_demo.stderr
    bad_grant = pavilion(
        "token",
        "--room",
        "r",
        "--identity",
        "i",
        "--grants",
        "fly",
        env={"PAVILION_SECRET": SECRET},
    )
    assert bad_grant.returncode == 2 and "unknown grant 'fly'" in bad_grant.stderr
    bad_ttl = pavilion(
        "token", "--room", "r", "--identity", "i", "--ttl", "soon", env={"PAVILION_SECRET": SECRET}
    )
    assert bad_ttl.returncode == 2 and "ttl" in bad_ttl.stderr
