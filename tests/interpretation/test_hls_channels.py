"""Issue 17 §7: a room's live HLS carries each interpretation channel as its own audio
rendition, tagged ``LANGUAGE`` and named in its language (RFC 8216 §4.4.6.1), and never mixes
it into the floor; an interpreter's own track is not packaged. A real H264 publisher and a real
aiortc interpreter into the plane; the playlists come from the real ``/hls/`` door."""

from __future__ import annotations

import aiohttp
import m3u8

from tests.hls.door import Start, put_rooms, room
from tests.interpretation.peers import Talker
from tests.streaming.clients import publish, until
from web.media import MEDIA_KEY

HLS = {"segment_s": 1.0, "part_s": 0.25}


async def test_each_channel_is_a_tagged_audio_rendition(pavilion_app: Start) -> None:
    app = await pavilion_app(demo=False, hls=HLS)
    await put_rooms(app, room("show"))
    plane = app.app[MEDIA_KEY]
    floor = await publish(plane, "show", "exhibitor-co", codec="h264", size=(320, 240))
    voice = Talker(660)
    try:
        answer = await plane.publish("show", "booth-zh", await voice.offer(), "zh")
        await voice.accept(answer.sdp)
        await until(lambda: plane.hls("show") is not None)
        feed = plane.hls("show")
        assert feed is not None

        def listed() -> list[str]:
            text = feed.playlist("index.m3u8", low_latency=True) or ""
            return [line for line in text.splitlines() if line.startswith("#EXT-X-MEDIA:")]

        await until(lambda: len(listed()) == 2, within=30)
        async with aiohttp.ClientSession() as http, http.get(
                app.url + "/hls/show/index.m3u8") as got:
            assert got.status == 200
            master = m3u8.loads(await got.text())
        media = {m.uri.partition("?")[0]: m for m in master.media}
        assert set(media) == {"a0.m3u8", "a1.m3u8"}, media
        assert media["a1.m3u8"].language == "zh" and media["a1.m3u8"].name == "中文"
        assert media["a0.m3u8"].language is None and media["a0.m3u8"].default == "YES"
        assert "booth-zh" not in "".join(listed())  # the interpreter's own track: not packaged
    finally:
        await voice.close()
        await floor.close()
