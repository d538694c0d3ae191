"""``redis+sentinel://`` URLs (docs/deploy.md): python-socketio's format, read by the store too."""

from __future__ import annotations

import pytest

from rooms.redis_store import sentinel_url


def test_a_sentinel_url_names_the_sentinels_the_db_and_the_service() -> None:
    assert sentinel_url("redis+sentinel://10.0.0.5:26379,10.0.0.6:26380/2/pavilion") == (
        [("10.0.0.5", 26379), ("10.0.0.6", 26380)], "pavilion", {"db": 2})
    assert sentinel_url("redis+sentinel://:pw@h:1/0/m") == ([("h", 1)], "m",
                                                          {"db": 0, "password": "pw"})


@pytest.mark.parametrize("url", ["redis+sentinel://h:1/mymaster/0", "redis+sentinel://h:1/0",
                                 "redis+sentinel://h/0/m"])
def test_a_malformed_sentinel_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        sentinel_url(url)
