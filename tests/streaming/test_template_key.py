"""``template_key`` (streaming/subscription.py): one int per (template group, VP8 offsets), so the
fan-out's per-copy lookup hashes an int, not nested tuples (issue 19). Equal inputs give equal
keys while interned; a key that left the bounded table comes back under a new number, never
under one that another template holds."""

from __future__ import annotations

import pytest

from streaming import subscription
from streaming.subscription import template_key

GROUP = (96, b"\x01\x02")


def test_equal_inputs_share_a_key_and_different_ones_never_do() -> None:
    a, b = template_key(GROUP, 0, 0), template_key((96, b"\x01\x02"), 0, 0)
    assert a == b and isinstance(a, int)
    others = {template_key(GROUP, 5, 0), template_key(GROUP, 0, 7), template_key((97, b""), 0, 0)}
    assert a not in others and len(others) == 3


def test_the_table_is_bounded_and_a_returning_key_gets_a_new_number(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subscription, "TEMPLATE_KEYS_KEPT", 3)
    monkeypatch.setattr(subscription, "_template_keys", type(subscription._template_keys)())
    first = template_key(GROUP, 1, 0)
    kept = template_key(GROUP, 2, 0)
    template_key(GROUP, 3, 0)
    assert template_key(GROUP, 2, 0) == kept  # a hit keeps it (least recently used goes)
    template_key(GROUP, 4, 0)  # over the bound: (1, 0) leaves
    assert len(subscription._template_keys) == 3
    again = template_key(GROUP, 1, 0)
    assert again != first and again not in {kept, template_key(GROUP, 3, 0)}
