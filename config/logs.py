"""How a node writes its logs: one JSON object per line, or readable text for a terminal.

``log_format = "json"``: ``{"ts", "level", "logger", "msg", "node", "room"?, "session"?,
"identity"?, "request_id"?, "peer"?, "track"?, "exc"?}``, ``ts`` in RFC 3339 UTC. ``"text"``:
``<ts> <LEVEL> <logger>: <msg> node=.. room=..``, the traceback on the following lines.
``"auto"`` (the default) is text when stderr is a terminal and JSON otherwise (systemd,
containers, anything that ships logs). The context fields come from :mod:`config.log_context`;
every line passes :class:`config.log_scrub.Scrubber` last. docs/deploy.md, "Logs".
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

from config import log_context
from config.log_scrub import Scrubber, settings_secrets

LogFormat = Literal["auto", "json", "text"]
PAVILION_LOGGERS = ("pavilion", "web", "signaling", "rooms", "streaming", "config")
# chatty libraries: their DEBUG lines (every STUN check, every packet) never reach the handler
QUIET_LOGGERS = ("aiortc", "aioice", "aiohttp.access", "engineio", "socketio", "asyncio")


def timestamp(created: float) -> str:
    """RFC 3339 UTC with milliseconds: ``2026-05-20T08:30:00.123Z``."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Base(logging.Formatter):
    def __init__(self, scrub: Scrubber, node: str | None = None) -> None:
        super().__init__()
        self.scrub = scrub
        self.node = node

    def fields(self, record: logging.LogRecord) -> dict[str, str]:
        """The context of the line: bound fields, then ``extra=`` ones, the node as default."""
        found = log_context.current()
        for name in log_context.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                found[name] = str(value)[: log_context.MAX_VALUE]
        if self.node and "node" not in found:
            found["node"] = self.node
        return found

    def exc(self, record: logging.LogRecord) -> str | None:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        text = record.exc_text or ""
        if record.stack_info:
            text = f"{text}\n{self.formatStack(record.stack_info)}".strip()
        return text or None


class JsonFormatter(_Base):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "ts": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(self.fields(record))
        exc = self.exc(record)
        if exc:
            line["exc"] = exc
        return self.scrub(json.dumps(line, ensure_ascii=False, default=str))


class TextFormatter(_Base):
    """``<ts> <LEVEL> <logger>: <msg> key=value ...``, a traceback on the lines below."""

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{k}={_quoted(v)}" for k, v in self.fields(record).items())
        text = (f"{timestamp(record.created)} {record.levelname} {record.name}: "
                f"{record.getMessage()}{' ' + context if context else ''}")
        exc = self.exc(record)
        return self.scrub(f"{text}\n{exc}" if exc else text)


def _quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if (" " in value or not value) else value


def choose(log_format: str, stream: TextIO) -> Literal["json", "text"]:
    if log_format == "json":
        return "json"
    if log_format == "text":
        return "text"
    isatty = getattr(stream, "isatty", None)
    return "text" if callable(isatty) and isatty() else "json"


def formatter(log_format: str, settings: object = None, stream: TextIO = sys.stderr,
              node: str | None = None) -> logging.Formatter:
    """The formatter for ``log_format``, scrubbing ``settings``' secrets and credential shapes."""
    scrub = Scrubber(settings_secrets(settings) if settings is not None else ())
    kind = JsonFormatter if choose(log_format, stream) == "json" else TextFormatter
    return kind(scrub, node)


def configure(settings: object, stream: TextIO = sys.stderr) -> logging.Handler:
    """Replace the root logger's handlers with one writing ``settings``' format to ``stream``
    (``pavilion serve``, each ``--workers`` child). Returns the handler."""
    level = str(getattr(settings, "log_level", "info")).upper()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(str(getattr(settings, "log_format", "auto")), settings,
                                   stream, getattr(settings, "node_id", None)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    if level == "DEBUG":
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)
    return handler
