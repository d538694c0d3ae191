"""The replay side of the page API and the file route over real HTTP (issue 15 §3, §5)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from rooms.recording import TimelineEntry, TimelineKind
from tests.fixtures.pavilion import TEST_SECRET, RunningApp
from tests.recordings.helpers import STAFF, bearer, seed
from web import file_signature
from web.keys import BACKEND_KEY

Start = Callable[..., Awaitable[RunningApp]]
PAGES = "/api/pages/recordings"


async def started(pavilion_app: Start, tmp_path: Path) -> tuple[RunningApp, dict[str, bytes]]:
    node = await pavilion_app(recordings={"dir": str(tmp_path)})
    files = await seed(node.app[BACKEND_KEY].store, tmp_path, node.settings.node_id)
    return node, files


async def get_json(http: aiohttp.ClientSession, url: str, status: int = 200,
                   **kw: Any) -> dict[str, Any]:
    async with http.get(url, **kw) as response:
        assert response.status == status, await response.text()
        data: dict[str, Any] = await response.json()
        return data


async def test_listing_shows_public_replays_to_anyone_and_the_rest_to_staff(
        pavilion_app: Start, tmp_path: Path) -> None:
    node, _ = await started(pavilion_app, tmp_path)
    async with aiohttp.ClientSession(node.url) as http:
        anyone = await get_json(http, PAGES)
        assert [r["id"] for r in anyone["recordings"]] == ["rec_public00000"]
        assert "node" not in anyone["recordings"][0]
        assert anyone["recordings"][0]["room_title"]["zh"] == "直播"
        host = await get_json(http, PAGES, headers=bearer("gobi", "show"))
        assert [r["id"] for r in host["recordings"]] == ["rec_public00000", "rec_private0000"]
        mine = await get_json(http, PAGES + "?mine=1&room=show", headers=bearer("gobi", "show"))
        assert len(mine["recordings"]) == 2
        viewer = await get_json(http, PAGES + "?mine=1", headers=bearer("ana", "show"))
        assert viewer["recordings"] == []
        assert (await get_json(http, PAGES + "?pavilion=jilin"))["recordings"] == []
        bad = await get_json(http, PAGES + "?pavilion=mars", status=400)
        assert bad["error"]["code"] == "bad_pavilion"
        organiser = bearer("org", "*", STAFF)
        every = await get_json(http, PAGES + "?room=talk", headers=organiser)
        assert [r["id"] for r in every["recordings"]] == ["rec_meeting0000"]


async def test_signed_link_serves_ranges_and_etag(pavilion_app: Start, tmp_path: Path) -> None:
    node, files = await started(pavilion_app, tmp_path)
    async with aiohttp.ClientSession(node.url) as http:
        record = (await get_json(http, PAGES + "/rec_private0000",
                                 headers=bearer("mod", "show", STAFF)))["recording"]
        url = record["files"][0]["url"]
        assert "sig=" in url and record["files"][0]["kind"] == "participant"
        async with http.get(url, headers={"Range": "bytes=100-199"}) as part:
            assert part.status == 206
            assert part.headers["Content-Range"] == f"bytes 100-199/{len(files['rec_private0000'])}"
            assert part.headers["Content-Type"] == "video/webm"
            assert await part.read() == files["rec_private0000"][100:200]
            etag = part.headers["ETag"]
        async with http.get(url) as whole:
            assert whole.status == 200 and await whole.read() == files["rec_private0000"]
        async with http.get(url, headers={"If-None-Match": etag}) as same:
            assert same.status == 304


async def test_forged_expired_and_missing_signatures_are_refused(
        pavilion_app: Start, tmp_path: Path) -> None:
    node, _ = await started(pavilion_app, tmp_path)
    path = file_signature.file_path("rec_private0000", "gobi.webm")
    good = file_signature.signed_url(TEST_SECRET, "rec_private0000", "gobi.webm",
                                     now=time.time())
    forged = file_signature.signed_url("another-secret-0123456789abcdef", "rec_private0000",
                                       "gobi.webm", now=time.time())
    expired = file_signature.signed_url(TEST_SECRET, "rec_private0000", "gobi.webm",
                                        now=time.time() - 100, ttl_s=10)
    other = good.replace("rec_private0000", "rec_public00000")  # a link for another file
    async with aiohttp.ClientSession(node.url) as http:
        for url, code in ((forged, "bad_signature"), (expired, "link_expired"),
                          (other, "bad_signature"), (path, "token_missing"),
                          (path + "?exp=99999999999&sig=x", "bad_signature")):
            refused = await get_json(http, url, status=403)
            assert refused["error"]["code"] == code, url
        async with http.get(good) as ok:
            assert ok.status == 200
        public = file_signature.file_path("rec_public00000", "gobi.webm")
        async with http.get(public) as free:
            assert free.status == 200, "a published public replay needs no signature"
        assert (await get_json(http, public.replace("gobi.webm", "..%2Fx"), status=404))


async def test_meeting_replays_are_the_organisers(pavilion_app: Start, tmp_path: Path) -> None:
    node, _ = await started(pavilion_app, tmp_path)
    async with aiohttp.ClientSession(node.url) as http:
        meeting = PAGES + "/rec_meeting0000"
        assert (await get_json(http, meeting, status=403))["error"]["code"] == "token_missing"
        host = await get_json(http, meeting, status=403, headers=bearer("gobi", "talk", STAFF))
        assert host["error"]["code"] == "not_allowed"
        await get_json(http, meeting, headers=bearer("org", "*", STAFF))
        assert (await get_json(http, PAGES + "/rec_nothing0000", status=404))["error"][
            "code"] == "no_such_recording"


async def test_host_renames_publishes_deletes_viewer_may_not(
        pavilion_app: Start, tmp_path: Path) -> None:
    node, _ = await started(pavilion_app, tmp_path)
    url = node.url + PAGES + "/rec_private0000"
    async with aiohttp.ClientSession() as http:
        async with http.patch(url, json={"published": True}, headers=bearer("ana", "show")) as no:
            assert no.status == 403
        async with http.patch(url, json={"title": "Spring sale 春季", "published": True},
                              headers=bearer("gobi", "show")) as yes:
            assert yes.status == 200, await yes.text()
            assert (await yes.json())["recording"]["title"] == "Spring sale 春季"
        async with http.patch(url, json={"title": 5}, headers=bearer("gobi", "show")) as bad:
            assert bad.status == 400
        listed = await get_json(http, node.url + PAGES)
        assert {r["id"] for r in listed["recordings"]} == {"rec_public00000", "rec_private0000"}
        async with http.delete(url, headers=bearer("ana", "show")) as no:
            assert no.status == 403
        async with http.delete(url, headers=bearer("gobi", "show")) as gone:
            assert gone.status == 200
        await get_json(http, url, status=404)


async def test_timeline_lists_entries_for_who_may_watch(pavilion_app: Start,
                                                        tmp_path: Path) -> None:
    node, _ = await started(pavilion_app, tmp_path)
    store = node.app[BACKEND_KEY].store
    await store.append_timeline("rec_public00000", [
        TimelineEntry(0.5, TimelineKind.CHAT, {"id": "1-0", "sender": "ana", "name": "Ana",
                                               "text": "你好"}),
        TimelineEntry(1.25, TimelineKind.PIN, {"product_id": "p1", "product": {"id": "p1"}})])
    async with aiohttp.ClientSession(node.url) as http:
        entries = (await get_json(http, PAGES + "/rec_public00000/timeline"))["entries"]
        assert [(e["at_s"], e["kind"]) for e in entries] == [(0.5, "chat"), (1.25, "pin")]
        assert entries[0]["text"] == "你好"
        await get_json(http, PAGES + "/rec_private0000/timeline", status=403)
