"""Issue 19 §2: /metrics says how the node's fan-out sends (sendmmsg, or the sendto fallback
forced by ``[media] send_backend``)."""

from __future__ import annotations

import pytest

from streaming import send_backend
from tests.signaling.test_live_metrics import _scrape


@pytest.mark.parametrize("setting", ["auto", "sendto"])
async def test_metrics_name_the_send_backend(pavilion_app, setting: str) -> None:
    app = await pavilion_app(demo=False, media={"send_backend": setting})
    values = await _scrape(app.url)
    expected = "sendmmsg" if setting == "auto" and send_backend.compiled() else "sendto"
    assert values[f"pavilion_media_send_backend{{backend={expected}}}"] == 1
    assert [name for name in values if name.startswith("pavilion_media_send_backend")] == [
        f"pavilion_media_send_backend{{backend={expected}}}"
    ]
