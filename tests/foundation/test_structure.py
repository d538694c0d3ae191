"""The house matches DESIGN.md §2: import arrows hold, and every module imports on its own.

Importing each module first in a fresh interpreter catches import cycles that a test run, which
imports modules in some lucky order, would hide (aiohttp's test suite does the same).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "rooms", "streaming", "signaling", "web")


def all_modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_import_contracts_hold() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


# Third-party libraries are imported once in the parent, then each of our modules is imported in
# a forked child that has none of our code loaded: a cycle among our modules still shows, and
# the suite does not pay aiortc's and aiohttp's import time a hundred times over.
FORK_EACH = """
import importlib, os, sys, traceback, warnings
warnings.simplefilter("error")
for lib in ("aiohttp", "aiortc", "av", "redis.asyncio", "socketio", "jinja2", "pydantic", "jwt"):
    importlib.import_module(lib)
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed.append(name)
print("FAILED:", " ".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_first_in_a_fresh_process() -> None:
    modules = all_modules()
    assert "web.app" in modules and "rooms.token" in modules
    result = subprocess.run([sys.executable, "-c", FORK_EACH, *modules], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
