"""The ``pavilion`` command: ``serve``, ``token`` and ``--version``.

Configuration problems (a bad flag value, an unknown TOML key, a bad ``PAVILION_*`` variable)
are printed as one line and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from config import ConfigError, Settings, default_node_id, load, logs
from config.state import StateError, demo_secret, read_demo_secret, state_dir
from rooms.token import parse_grants, parse_languages
from web.version import package_version

EXIT_CONFIG = 2
TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> int:
    """``"90"`` / ``"90s"`` / ``"15m"`` / ``"6h"`` / ``"2d"`` -> seconds (positive)."""
    raw = text.strip().lower()
    unit = raw[-1] if raw and raw[-1] in TTL_UNITS else "s"
    number = raw[:-1] if raw and raw[-1] in TTL_UNITS else raw
    if not number.isdigit() or int(number) <= 0:
        raise ValueError(f"ttl must look like 90s, 15m, 6h or 2d (got {text!r})")
    return int(number) * TTL_UNITS[unit]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pavilion", description="Pavilion media server")
    parser.add_argument("--version", action="version", version=f"pavilion {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a node")
    serve.add_argument("--host")
    serve.add_argument("--port", help="TCP port (default 8080)")
    serve.add_argument("--config", help="TOML settings file (or PAVILION_CONFIG)")
    serve.add_argument("--redis-url", help="share state through this Redis (default: in memory)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="run N nodes on this machine, on ports PORT..PORT+N-1 (needs --redis-url)",
    )
    serve.add_argument(
        "--demo",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="seed the demo expo and accept a generated secret (default: on)",
    )
    serve.add_argument(
        "--demo-public",
        action="store_true",
        default=None,
        help="allow demo mode on a non-loopback address (every visitor gets staff links)",
    )
    token = sub.add_parser("token", help="print an access token")
    token.add_argument("--config", help="TOML settings file (or PAVILION_CONFIG)")
    token.add_argument("--room", required=True, help="room id, or * for every room")
    token.add_argument("--identity", required=True)
    token.add_argument("--name", default="", help="display name (default: the identity)")
    token.add_argument(
        "--grants",
        default="join,subscribe,chat",
        help="comma-separated: join,publish,subscribe,chat,moderate,create,hidden,recorder,"
        "exhibit,delegate,interpret",
    )
    token.add_argument("--languages", default="",
                       help="an interpreter's languages, comma-separated: ko,zh (issue 17)")
    token.add_argument("--ttl", default="6h", help="lifetime: 90s, 15m, 6h, 2d (default 6h)")
    return parser


def settings_for(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    overrides: dict[str, Any] = {}
    if args.command == "serve":
        overrides = {
            "host": args.host,
            "port": args.port,
            "redis_url": args.redis_url,
            "demo": args.demo,
            "demo_public": args.demo_public,
        }
    return load(file=args.config or env.get("PAVILION_CONFIG"), env=env, overrides=overrides,
                demo_secret=_state_secret(env, create=args.command == "serve"))


def _state_secret(env: Mapping[str, str], *, create: bool) -> Any:
    """The demo secret of the state file (config/state.py): ``serve`` creates it, ``token``
    only reads it. Its problems are configuration errors (one line, status 2)."""
    def secret(settings: Settings) -> str:
        folder = state_dir(settings.state_dir, env)
        try:
            return demo_secret(folder) if create else read_demo_secret(folder)
        except StateError as exc:
            raise ConfigError(f"state_dir: {exc}") from None
    return secret


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    environ = os.environ if env is None else env
    try:
        if args.command == "token":
            return _token(args, environ)
        settings = settings_for(args, environ)
    except ConfigError as exc:
        print(f"pavilion: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.workers != 1:
        return _workers(args, settings, environ)
    from web.server import serve

    return serve(settings)


def _workers(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    """``serve --workers N``: a supervisor of N node processes (web/workers.py)."""
    from web import workers

    logs.configure(settings)  # the supervisor's own lines, as its workers write theirs
    try:
        workers.check(settings, args.workers)
    except ConfigError as exc:
        print(f"pavilion: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    explicit = settings.node_id != default_node_id(settings.port)
    return workers.supervise(workers.plan(args, settings, env, args.workers, explicit))


def _token(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from rooms.token import mint

    settings = settings_for(args, env)  # demo mode: the secret `pavilion serve` keeps
    try:
        grants = parse_grants(args.grants)
        languages = parse_languages(args.languages)
        ttl = parse_ttl(args.ttl)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    print(
        mint(
            settings.secret_value(),
            identity=args.identity,
            name=args.name,
            room=args.room,
            grants=grants,
            ttl_s=ttl,
            languages=languages,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
