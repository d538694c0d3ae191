"""Text a person typed or an organiser wrote: six-language metadata and the rules for user text.

Text is stored exactly as given and escaped wherever it is shown (jinja2 autoescape, JSON); the
rules here refuse only what is never legitimate: empty strings, over-long strings, and control
characters (C0/C1, and the bidi overrides that let a name render backwards, CVE-2021-42574 style).
Every refusal is an :class:`~rooms.errors.InvalidInput` with a stable code.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from config import LANGUAGES
from rooms.errors import InvalidInput

DISPLAY_NAME_MAX = 64
TITLE_MAX = 200
DESCRIPTION_MAX = 4_000
# Bidi embedding/override/isolate controls (Unicode TR9): they reorder whatever follows them on
# the page, so a name or message could masquerade as someone else's; refused everywhere.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class LocalizedText:
    """An immutable mapping language -> text (``zh en ja ko ru mn``), with a fallback accessor."""

    __slots__ = ("_texts",)

    def __init__(self, texts: Mapping[str, str] | None = None) -> None:
        clean: dict[str, str] = {}
        for lang, value in (texts or {}).items():
            if lang not in LANGUAGES:
                raise InvalidInput("bad_language", f"unknown language {lang!r}")
            if not isinstance(value, str):
                raise InvalidInput("bad_text", f"text for {lang!r} must be a string")
            clean[lang] = value
        self._texts = MappingProxyType(clean)

    def get(self, lang: str, fallback: str = "en") -> str:
        """The text in ``lang``, else in ``fallback``, else in any language, else ``""``."""
        for key in (lang, fallback):
            if self._texts.get(key):
                return self._texts[key]
        return next((v for v in self._texts.values() if v), "")

    def __getitem__(self, lang: str) -> str:
        return self._texts[lang]

    def __contains__(self, lang: object) -> bool:
        return lang in self._texts

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def as_dict(self) -> dict[str, str]:
        return dict(self._texts)

    def missing(self) -> list[str]:
        """Languages without text, in the canonical order."""
        return [lang for lang in LANGUAGES if not self._texts.get(lang)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalizedText) and dict(self._texts) == dict(other._texts)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._texts.items())))

    def __repr__(self) -> str:
        return f"LocalizedText({dict(self._texts)!r})"


def has_control_chars(text: str, *, allow_newlines: bool = False) -> bool:
    """True if ``text`` holds a C0/C1 control or a bidi override (optionally: newline, tab ok)."""
    for ch in text:
        if allow_newlines and ch in "\n\t":
            continue
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
            return True
    return False


def display_name(name: str, *, max_chars: int = DISPLAY_NAME_MAX) -> str:
    """Validate a display name: 1..max_chars characters after trimming, one line, no controls."""
    trimmed = name.strip()
    if not trimmed:
        raise InvalidInput("name_empty", "display name is empty")
    if len(trimmed) > max_chars:
        raise InvalidInput("name_too_long", f"display name is longer than {max_chars} characters")
    if has_control_chars(trimmed):
        raise InvalidInput("name_control_chars", "display name contains control characters")
    return trimmed


def user_text(text: str, *, max_chars: int, what: str = "message") -> str:
    """Validate chat or question text: non-blank, at most ``max_chars``, newlines allowed.

    Returned unchanged (not trimmed): text is stored as given.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{what}_empty", f"{what} is empty")
    if len(text) > max_chars:
        raise InvalidInput(f"{what}_too_long", f"{what} is longer than {max_chars} characters")
    if has_control_chars(text, allow_newlines=True):
        raise InvalidInput(f"{what}_control_chars", f"{what} contains control characters")
    return text


def short_text(text: str, *, max_chars: int, what: str) -> str:
    """Validate one line of organiser text (a title, a product name)."""
    if len(text) > max_chars:
        raise InvalidInput(f"{what}_too_long", f"{what} is longer than {max_chars} characters")
    if has_control_chars(text):
        raise InvalidInput(f"{what}_control_chars", f"{what} contains control characters")
    return text
