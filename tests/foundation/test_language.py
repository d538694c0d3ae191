"""Language negotiation for all six languages: ?lang= > cookie > Accept-Language > default."""

from __future__ import annotations

import pytest

from web.language import negotiate, parse_accept_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh-Hant-TW", "zh"),
        ("ja-JP", "ja"),
        ("ko-KR,ko;q=0.9", "ko"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"),
        ("mn-Cyrl-MN", "mn"),
        ("en-GB", "en"),
        ("fr-FR,ja;q=0.5", "ja"),
        ("en;q=0.1,ko;q=0.9", "ko"),
        ("de-DE", "mn"),  # none of ours: the configured default
        ("", "mn"),
        ("ru;q=0,en;q=0.2", "en"),  # q=0 means "not acceptable"
        ("ja;q=abc,ko", "ko"),
    ],
)
def test_accept_language(header: str, expected: str) -> None:
    assert negotiate(None, None, header, "mn") == expected


def test_precedence() -> None:
    assert negotiate("ko", "ja", "ru", "en") == "ko"
    assert negotiate(None, "ja", "ru", "en") == "ja"
    assert negotiate("xx", "bogus", "ru", "en") == "ru"
    assert negotiate(None, None, None, "zh") == "zh"


def test_parse_orders_by_quality_then_position() -> None:
    assert parse_accept_language("a;q=0.5, b, c;q=0.9, d") == ["b", "d", "c", "a"]
