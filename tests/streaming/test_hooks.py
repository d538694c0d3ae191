"""The private-hook registry: all present in the pinned aiortc, a missing one refuses start."""

from __future__ import annotations

import pytest
from aiortc.rtcdtlstransport import RTCDtlsTransport

from streaming import aiortc_hooks


def test_every_hook_exists_in_the_installed_aiortc() -> None:
    aiortc_hooks.check()


def test_a_missing_internal_refuses_start_with_its_name() -> None:
    hooks = (*aiortc_hooks.HOOKS, (RTCDtlsTransport, "_no_such_thing", "field"))
    with pytest.raises(RuntimeError) as info:
        aiortc_hooks.check(hooks)
    assert str(info.value) == (
        "aiortc internal missing: aiortc.rtcdtlstransport.RTCDtlsTransport._no_such_thing"
    )


def test_a_missing_method_is_named_too() -> None:
    hooks = ((RTCDtlsTransport, "_handle_rtp_data_gone", "method"),)
    with pytest.raises(RuntimeError, match=r"RTCDtlsTransport\._handle_rtp_data_gone$"):
        aiortc_hooks.check(hooks)
