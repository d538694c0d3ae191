"""Every message the code and templates use is translated into all six languages.

Messages are extracted the way translators would (Babel's extractors over the templates and the
Python sources), then each catalog must hold a non-empty translation that keeps every
``%(name)s`` placeholder, and differs from the English unless it is a name (the brand).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from config import LANGUAGES
from web.catalog import load_catalogs, read_catalog

WEB = Path(__file__).resolve().parents[2] / "web"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
SAME_IN_EVERY_LANGUAGE = {"Pavilion", "Forum", "Lobby"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def used_messages() -> set[str]:
    found: set[str] = set()
    methods = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(WEB),
        method_map=methods,
        keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_extraction_finds_the_lobby_strings() -> None:
    used = used_messages()
    assert {"Live now", "Jilin Pavilion", "Trade meeting", "%(num)d watching"} <= used


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_translates_every_used_message(lang: str) -> None:
    catalog = read_catalog(lang)  # type: ignore[arg-type]
    missing, broken, untranslated = [], [], []
    for message in sorted(used_messages()):
        entry = catalog.get(message)
        if entry is None or not all(
            entry.string if isinstance(entry.string, tuple) else [entry.string]
        ):
            missing.append(message)
            continue
        forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if any(set(PLACEHOLDER.findall(f)) != set(PLACEHOLDER.findall(message)) for f in forms):
            broken.append(message)
        if lang != "en" and message not in SAME_IN_EVERY_LANGUAGE and forms[0] == message:
            untranslated.append(message)
    assert (missing, broken, untranslated) == ([], [], [])


def test_catalogs_compile_with_plural_rules() -> None:
    catalogs = load_catalogs()
    assert catalogs["ru"].ngettext("%(num)d watching", "%(num)d watching", 21) == "%(num)d зритель"
    assert catalogs["ru"].ngettext("%(num)d watching", "%(num)d watching", 3) == "%(num)d зрителя"
    assert catalogs["ru"].ngettext("%(num)d watching", "%(num)d watching", 11) == "%(num)d зрителей"
    assert catalogs["ja"].gettext("Live now") == "ライブ配信中"


def test_a_message_defined_twice_is_refused(tmp_path: Path) -> None:
    for lang in LANGUAGES:
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        entry = 'msgid "Live now"\nmsgstr "x"\n'
        (folder / "messages.po").write_text(entry, encoding="utf-8")
        (folder / "pages.po").write_text(entry, encoding="utf-8")
    with pytest.raises(ValueError, match="already defined"):
        load_catalogs(tmp_path)
