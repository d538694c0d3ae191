"""jinja2 rendering with gettext: one autoescaping environment per language.

One environment per language (six, built once) instead of swapping translations per request:
rendering stays free of shared mutable state, so concurrent requests in different languages
cannot see each other's catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from config import LANGUAGES, Language
from web.catalog import Catalogs
from web.language import NATIVE_NAMES

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_PREFIX = "/static/"


class Renderer:
    """Renders a named template in a language, with the common context every page needs."""

    def __init__(self, catalogs: Catalogs, common: dict[str, Any] | None = None) -> None:
        self.catalogs = catalogs
        self._common = dict(common or {})
        self._envs = {lang: self._environment(lang) for lang in LANGUAGES}

    def _environment(self, lang: Language) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
            autoescape=True,
            extensions=["jinja2.ext.i18n"],
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(self.catalogs[lang], newstyle=True)  # type: ignore[attr-defined]
        env.globals["static"] = lambda name: STATIC_PREFIX + name
        env.globals["languages"] = list(NATIVE_NAMES.items())
        return env

    def render(self, name: str, lang: Language, **context: Any) -> str:
        template = self._envs[lang].get_template(name)
        return template.render(**self._common, lang=lang, **context)

    def gettext(self, lang: Language, message: str) -> str:
        return self.catalogs.gettext(lang, message)
