"""Which of the six languages a request gets: ``?lang=``, then the cookie, then Accept-Language.

Pure functions, no aiohttp: the request adapter in :mod:`web.pages` passes in the three raw
values. Tags are matched on their primary subtag (``zh-CN`` and ``zh-Hant`` are ``zh``,
``mn-Cyrl-MN`` is ``mn``), with RFC 9110 §12.5.4 quality values deciding the order.
"""

from __future__ import annotations

from config import LANGUAGES, Language

COOKIE = "pavilion_lang"
NATIVE_NAMES: dict[Language, str] = {
    "zh": "中文",
    "en": "English",
    "ja": "日本語",
    "ko": "한국어",
    "ru": "Русский",
    "mn": "Монгол",
}


def as_language(tag: str | None) -> Language | None:
    """``"ja-JP"`` -> ``"ja"``; anything not one of the six -> ``None``."""
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-", 1)[0]
    for lang in LANGUAGES:
        if lang == primary:
            return lang
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, best first; malformed parts are ignored."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        if not tag.strip() or tag.strip() == "*":
            continue
        quality = _quality(params)
        if quality > 0:
            ranked.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def negotiate(
    query: str | None, cookie: str | None, accept_language: str | None, default: Language
) -> Language:
    """The language for a request, by the precedence above."""
    for candidate in (query, cookie):
        lang = as_language(candidate)
        if lang is not None:
            return lang
    for tag in parse_accept_language(accept_language):
        lang = as_language(tag)
        if lang is not None:
            return lang
    return default
