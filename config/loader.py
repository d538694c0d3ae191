"""Build :class:`~config.settings.Settings` from layers: defaults < TOML file < environment < CLI.

The environment is an injected mapping (not ``os.environ`` read deep in the code): ``PAVILION_PORT``
sets ``port``; a double underscore reaches into a section (``PAVILION_MEDIA__MAX_SDP_BYTES``);
``PAVILION_ICE_SERVERS``, ``PAVILION_TURN__URLS`` and ``PAVILION_WEBHOOKS`` take JSON. Any
problem becomes one :class:`ConfigError` whose message is a single line naming the key, so the
CLI can print it and
exit with status 2.
"""

from __future__ import annotations

import json
import secrets
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from config.settings import Settings

ENV_PREFIX = "PAVILION_"
_JSON_KEYS = {("ice_servers",), ("turn", "urls"), ("webhooks",)}


class ConfigError(Exception):
    """A configuration problem, described in one line that names the key."""


def load(
    *,
    file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    demo_secret: Callable[[Settings], str] | None = None,
) -> Settings:
    """Merge the layers and validate once. In demo mode without a secret, take
    ``demo_secret(settings)`` (the CLI: the state file, config/state.py), else invent one."""
    merged: dict[str, Any] = {}
    if file is not None:
        _deep_merge(merged, _read_toml(Path(file)))
    _deep_merge(merged, _from_env(env or {}))
    _deep_merge(merged, {k: v for k, v in (overrides or {}).items() if v is not None})
    settings = _validate(merged)
    if settings.demo and settings.secret is None:
        secret = demo_secret(settings) if demo_secret else secrets.token_urlsafe(32)
        settings = settings.model_copy(update={"secret": SecretStr(secret)})
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from None


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name == "PAVILION_CONFIG":
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        value: Any = raw
        if tuple(path) in _JSON_KEYS:
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{name}: not valid JSON ({exc.msg})") from None
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def _deep_merge(into: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


def _validate(data: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    key = ".".join(str(p) for p in err["loc"]) or "settings"
    if err["type"] == "extra_forbidden":
        return f"{key}: unknown setting"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and err["type"] not in ("missing",) and not isinstance(err["input"], dict):
        shown = "***" if "secret" in key or "api_key" in key else repr(err["input"])
        return f"{key}: {msg} (got {shown})"
    return f"{key}: {msg}"
