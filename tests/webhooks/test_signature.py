"""The signature header, checked by the verification snippet docs/webhooks.md gives receivers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from rooms.webhooks import signature

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
SECRET = "whsec-test-0123456789abcdef"


def documented_verify() -> Callable[..., bool]:
    """The doc's snippet, executed as written."""
    text = DOC.read_text()
    code = re.search(r"<!-- verify-snippet -->\n```python\n(.*?)```", text, re.S)
    assert code is not None, "docs/webhooks.md lost its verification snippet"
    space: dict[str, object] = {}
    exec(compile(code.group(1), str(DOC), "exec"), space)
    verify = space["verify"]
    assert callable(verify)
    return verify  # type: ignore[return-value]


def test_snippet_accepts_a_fresh_signature_and_refuses_tampering() -> None:
    verify = documented_verify()
    body = b'{"id":"evt_1","event":"room_started","created_at":1.0,"room":"r"}'
    header = signature.sign(SECRET, body, now=int(time.time()))
    assert verify(SECRET, body, header)
    assert not verify(SECRET, body + b" ", header)
    assert not verify("another-secret-0123456789", body, header)
    assert not verify(SECRET, body, header.replace("v1=", "v1=0"))


def test_snippet_refuses_an_old_signature() -> None:
    verify = documented_verify()
    body = b"{}"
    stale = signature.sign(SECRET, body, now=int(time.time()) - 301)
    assert not verify(SECRET, body, stale)
    assert signature.verify(SECRET, body, signature.sign(SECRET, body, now=1_000), now=1_100)
