"""``pavilion token`` against a running demo node (issue 12): ``pavilion serve`` keeps its demo
secret in a state file (0600, reused across runs), and the CLI signs with it, so the README's
token and curl recipes work on a demo node. Real processes, real HTTP."""

from __future__ import annotations

import json
import stat
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from config.state import DEMO_SECRET_FILE, StateError, demo_secret, read_demo_secret
from tests.fixtures.pavilion import PavilionProcess
from tests.foundation.test_cli import pavilion


def _put_profile(url: str, token: str) -> int:
    body = json.dumps({"name": {"en": "Changchun Motors"}, "pavilion": "automobile"}).encode()
    request = urllib.request.Request(f"{url}/api/meetings/exhibitors/faw", data=body, method="PUT",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _token(state: Path) -> str:
    made = pavilion("token", "--room", "*", "--identity", "faw", "--grants", "exhibit,join",
                    "--name", "Changchun Motors", env={"PAVILION_STATE_DIR": str(state)})
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def test_token_signs_with_the_demo_nodes_secret_across_runs(
        pavilion_process: Callable[..., PavilionProcess], tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {"PAVILION_STATE_DIR": str(state)}
    node = pavilion_process(env=env)
    path = state / DEMO_SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text()
    token = _token(state)
    assert _put_profile(node.url, token) == 200
    assert node.stop() == 0
    again = pavilion_process(env=env)  # the next run reuses the secret: old tokens still work
    assert path.read_text() == secret
    assert _put_profile(again.url, token) == 200
    assert _put_profile(again.url, token[:-2] + "xx") == 401


def test_token_without_a_demo_node_says_so(tmp_path: Path) -> None:
    made = pavilion("token", "--room", "*", "--identity", "faw",
                    env={"PAVILION_STATE_DIR": str(tmp_path)})
    assert made.returncode == 2
    assert str(tmp_path / DEMO_SECRET_FILE) in made.stderr and "pavilion serve" in made.stderr


def test_the_state_file_is_created_once_and_kept(tmp_path: Path) -> None:
    first = demo_secret(tmp_path / "s")
    assert demo_secret(tmp_path / "s") == first == read_demo_secret(tmp_path / "s")
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o700
    (tmp_path / "s" / DEMO_SECRET_FILE).write_text("short\n")
    with pytest.raises(StateError, match="shorter than 32 bytes"):  # never used to sign
        read_demo_secret(tmp_path / "s")
