"""The candidate switches of ``[media]`` (streaming/candidate_filter.py): their default follows
the bind address, an explicit value always wins, and they validate like every other key."""

from __future__ import annotations

import pytest

from config import ConfigError, MediaLimits, Settings, load

SECRET = {"secret": "s" * 40, "demo": False}  # demo refuses non-loopback hosts


def switches(settings: Settings) -> tuple[bool, bool]:
    return (settings.media.allow_loopback_candidates, settings.media.allow_private_candidates)


@pytest.mark.parametrize(("host", "allowed"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.0.2.10", False), ("10.0.0.5", False),
    ("expo.example", False),
])
def test_the_default_follows_the_bind_address(host: str, allowed: bool) -> None:
    assert switches(load(env={}, overrides={**SECRET, "host": host})) == (allowed, allowed)


def test_an_explicit_value_wins_from_any_layer() -> None:
    env = {"PAVILION_MEDIA__ALLOW_PRIVATE_CANDIDATES": "false"}
    assert switches(load(env=env, overrides=SECRET)) == (True, False)
    public = {"PAVILION_HOST": "0.0.0.0", "PAVILION_MEDIA__ALLOW_LOOPBACK_CANDIDATES": "true",
              "PAVILION_DEMO": "false"}
    assert switches(load(env=public, overrides=SECRET)) == (True, False)
    built = Settings(demo=True, media=MediaLimits(allow_loopback_candidates=False))
    assert switches(built) == (False, True)
    assert MediaLimits().allow_loopback_candidates is False  # alone: nothing beyond public


@pytest.mark.parametrize(("key", "value", "words"), [
    ("ALLOW_PRIVATE_CANDIDATES", "maybe", "media.allow_private_candidates"),
    ("MAX_SECTION_LINES", "10", "media.max_section_lines"),
    ("MAX_MEDIA_SECTIONS", "0", "media.max_media_sections"),
    ("MAX_SDP_LINE_CHARS", "100", "media.max_sdp_line_chars"),
])
def test_bad_values_are_one_line_naming_the_key(key: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load(env={f"PAVILION_MEDIA__{key}": value}, overrides=SECRET)
