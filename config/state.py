"""The demo secret, kept in a state file so ``pavilion token`` signs what ``pavilion serve`` checks.

In demo mode without a configured secret, ``pavilion serve`` used to invent one that lived only in
its process, so no token minted outside it would verify. Now it reads ``<state dir>/demo-secret``,
creating it (mode 0600, never overwritten) on the first run, and reuses it on every run after;
``pavilion token`` reads the same file. The state directory is ``state_dir`` (settings, TOML,
``PAVILION_STATE_DIR``), else ``$XDG_STATE_HOME/pavilion``, else ``~/.local/state/pavilion``.
A configured ``secret`` always wins; outside demo mode the file is never read.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

DEMO_SECRET_FILE = "demo-secret"
MIN_SECRET_BYTES = 32


class StateError(Exception):
    """The state file cannot be used; the message is one line naming the file."""


def state_dir(configured: str | None, env: Mapping[str, str]) -> Path:
    """Where Pavilion keeps its state (see the module's docstring)."""
    if configured:
        return Path(configured).expanduser()
    xdg = env.get("XDG_STATE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / "pavilion"


def read_demo_secret(folder: Path) -> str:
    """The demo secret a running (or earlier) demo node wrote; ``StateError`` if none."""
    path = folder / DEMO_SECRET_FILE
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise StateError(f"{path}: no demo secret yet; start `pavilion serve` in demo mode "
                         "first, or set PAVILION_SECRET") from None
    except OSError as exc:
        raise StateError(f"{path}: {exc.strerror}") from None
    if len(text.encode()) < MIN_SECRET_BYTES:
        raise StateError(f"{path}: the demo secret is shorter than {MIN_SECRET_BYTES} bytes")
    return text


def demo_secret(folder: Path) -> str:
    """The demo secret in ``folder``, created there (0600, directory 0700) if it is missing."""
    path = folder / DEMO_SECRET_FILE
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_demo_secret(folder)
    except OSError as exc:
        raise StateError(f"{path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_urlsafe(32) + "\n")
    return read_demo_secret(folder)
