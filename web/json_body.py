"""Bounded JSON decoding for everything a client sends as JSON (HTTP bodies, Socket.IO packets).

Python's ``json`` parser recurses once per nesting level: ``[[[[...]]]]`` 30,000 levels deep
raises ``RecursionError`` (a 500 and a traceback per request), and a few hundred levels that
still parse would make every later walk over the value deep too. :func:`loads` therefore
refuses input nested deeper than ``max_depth`` with ``InvalidInput("bad_json")``, like any
other malformed JSON. Pure: no aiohttp, no socketio.

Cost: a payload with at most ``max_depth`` brackets in all (almost every one) is only parsed;
any other is parsed (the C parser, or its own RecursionError) and then its containers walked
once, stopping at the first one too deep.
"""

from __future__ import annotations

import json
from typing import Any

from rooms.errors import InvalidInput

MAX_DEPTH = 32
MAX_INT_DIGITS = 100  # int("9" * 10**6) is quadratic: refuse such numbers up front


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in ``text``; ``InvalidInput("bad_json")`` if it is not JSON (``NaN`` and
    ``Infinity`` are not), is nested deeper than ``max_depth`` or has an integer of more than
    ``MAX_INT_DIGITS`` digits."""
    try:
        value = json.loads(text, parse_int=_int, parse_constant=_constant)
    except RecursionError:
        raise _too_deep(max_depth) from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise InvalidInput("bad_json", f"not JSON: {exc}"[:200]) from None
    if _brackets(text) > max_depth and depth_exceeds(value, max_depth):
        raise _too_deep(max_depth)
    return value


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``max_depth`` levels deep
    (iterative: a deep value cannot exhaust the stack here)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return False


def _brackets(text: str | bytes) -> int:
    if isinstance(text, bytes):
        return text.count(b"[") + text.count(b"{")
    return text.count("[") + text.count("{")


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"integer of more than {MAX_INT_DIGITS} digits")
    return int(digits)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _too_deep(max_depth: int) -> InvalidInput:
    return InvalidInput("bad_json", f"JSON nested deeper than {max_depth} levels")
