"""Gettext catalogs for the six languages, read from ``web/locale/<lang>/LC_MESSAGES/*.po``.

The ``.po`` files are the source of truth and are compiled in memory at start (Babel), so there
is no build step and no binary ``.mo`` in the repository. English is the message id language.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

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


def po_path(lang: Language, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalogs(locale_dir: Path = LOCALE_DIR) -> Catalogs:
    """Compile every language's catalog; a missing ``.po`` is an error, never a silent fallback."""
    return Catalogs({lang: _compile(po_path(lang, locale_dir), lang) for lang in LANGUAGES})


def _compile(path: Path, lang: Language) -> Translations:
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=_babel_locale(lang))
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def _babel_locale(lang: Language) -> str:
    return {"zh": "zh_Hans"}.get(lang, lang)
