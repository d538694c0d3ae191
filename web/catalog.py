"""Gettext catalogs for the six languages, read from ``web/locale/<lang>/LC_MESSAGES/*.po``.

The ``.po`` files are the source of truth and are compiled in memory at start (Babel), so there
is no build step and no binary ``.mo`` in the repository. English is the message id language.
Each area keeps its own file (``messages.po`` for the shell and lobby, ``pages.po``,
``meetings.po`` ...), merged into one catalog per language; a message id defined in two files is
an error, so two areas can never silently disagree on a translation.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from config import LANGUAGES, Language

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


@dataclass(frozen=True)
class Catalogs:
    """One :class:`babel.support.Translations` per language."""

    by_language: dict[Language, Translations]

    def __getitem__(self, lang: Language) -> Translations:
        return self.by_language[lang]

    def gettext(self, lang: Language, message: str) -> str:
        return str(self.by_language[lang].gettext(message))


def po_paths(lang: Language, locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Every ``.po`` file of one language, ``messages.po`` first."""
    folder = locale_dir / lang / "LC_MESSAGES"
    return sorted(folder.glob("*.po"), key=lambda p: (p.stem != DOMAIN, p.name))


def read_catalog(lang: Language, locale_dir: Path = LOCALE_DIR) -> Catalog:
    """All of one language's ``.po`` files as one Babel catalog (duplicate ids refused)."""
    paths = po_paths(lang, locale_dir)
    if not paths or paths[0].stem != DOMAIN:
        raise FileNotFoundError(f"no {DOMAIN}.po for language {lang!r} under {locale_dir}")
    merged: Catalog | None = None
    for path in paths:
        with path.open("rb") as fh:
            part = read_po(fh, locale=_babel_locale(lang))
        if merged is None:
            merged = part
            continue
        for message in part:
            if not message.id:
                continue
            if message.id in merged:
                raise ValueError(f"{path}: message {message.id!r} is already defined elsewhere")
            merged[message.id] = message
    assert merged is not None
    return merged


def load_catalogs(locale_dir: Path = LOCALE_DIR) -> Catalogs:
    """Compile every language's catalog; a missing ``.po`` is an error, never a silent fallback."""
    return Catalogs({lang: _compile(read_catalog(lang, locale_dir)) for lang in LANGUAGES})


def _compile(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def _babel_locale(lang: Language) -> str:
    return {"zh": "zh_Hans"}.get(lang, lang)
