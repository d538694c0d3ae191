"""Issue 16 §4 in real Chromium: the watch page plays WebRTC by default and the room's HLS
(hls.js, LL mode) when data saver is on, when its UDP is blocked, and when the room's WebRTC
seats are full, and goes back to WebRTC when a seat frees up; chat keeps working on HLS; the
page says which mode it is in and the delay.

The publisher is a Chromium studio page with the fake camera (H264, as a room with HLS asks);
the plane packages it (streaming/hls/) and the door serves it: nothing here is a stand-in.
"""

from __future__ import annotations

import subprocess
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import LIVE_BROADCAST, LIVE_FORUM
from tests.fixtures.netns import Link, Links
from tests.fixtures.pavilion import RunningApp
from tests.hls.door import Start
from tests.pages.helpers import INBOUND, STAFF, shoot, token, until, untranslated, video_flows
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser
HOST = ("changbai-foods", "长白山食品")
SAVER = "localStorage.setItem('pavilion.dataSaver', '1')"
MODE = "() => document.body.dataset.delivery"
TIME = "() => document.getElementById('video').currentTime"
PROGRAM_TIME = "() => document.getElementById('program-video').currentTime"


async def _node(start: Start, *, studio_h264: bool = False, **overrides: Any) -> RunningApp:
    return await start(demo=True, hls={"webrtc_timeout_s": 3, "studio_h264": studio_h264},
                       **overrides)


async def _go_live(running: RunningApp, browser: Any) -> Any:
    studio = await browser.new_page()
    tok = token(HOST[0], LIVE_BROADCAST, STAFF, HOST[1])
    await studio.goto(f"{running.url}/studio/{LIVE_BROADCAST}?token={tok}&lang=en")
    await until(lambda: studio.locator("#camera option").count(), "camera picker")
    await studio.click("#go-live")
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio to be on air")
    return studio


async def _mode(page: Any, mode: str, within_s: float = 30) -> None:
    async def there() -> bool:
        return bool(await page.evaluate(MODE) == mode)

    await until(there, f"the page to play over {mode}", tries=int(within_s * 10))


async def hls_plays(page: Any) -> float:
    """hls.js plays: currentTime advances 1.5 s past where it started (a stall never does);
    the delay the page shows, in seconds."""
    first = await until(lambda: page.evaluate(TIME), "HLS playback to start")
    await until(lambda: page.evaluate(f"() => document.getElementById('video').currentTime "
                                      f"> {first} + 1.5"), "playback to advance")
    delay = await until(lambda: page.locator("#delivery-delay").get_attribute("data-seconds"),
                        "the delay readout")
    return float(delay)


async def test_data_saver_plays_hls_and_chat_keeps_working(
        pavilion_app: Start, browser: Any) -> None:
    running = await _node(pavilion_app, studio_h264=True)
    await _go_live(running, browser)
    sources = running.app[MEDIA_KEY].sources[LIVE_BROADCAST].values()
    assert [s.codec.mime for s in sources if s.kind == "video"] == ["video/H264"], \
        "[hls] studio_h264: the studio sends H264 (no transcode)"
    viewer = await browser.new_page()
    errors: list[str] = []
    viewer.on("pageerror", lambda exc: errors.append(str(exc)))
    await viewer.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang=zh")
    await video_flows(viewer)
    await _mode(viewer, "webrtc")
    assert await viewer.locator("#delivery-mode").inner_text() == "实时（WebRTC）"
    await viewer.check("#data-saver")
    await _mode(viewer, "hls")
    delay = await hls_plays(viewer)
    assert 0 < delay < 60, delay
    assert (await viewer.locator("#delivery-mode").inner_text()) == "HTTP 直播流（HLS）"
    assert "秒" in await viewer.locator("#delivery-delay").inner_text()
    quality = viewer.locator("[data-quality]")
    await until(lambda: quality.get_attribute("data-width"), "the received quality")
    assert "kbit/s" in await quality.inner_text(), "the HLS picture's size and bit rate"
    assert not await untranslated(viewer)
    await viewer.fill("#chat-text", "hello from HLS")
    await viewer.press("#chat-text", "Enter")
    await until(lambda: viewer.locator("#chat-log li", has_text="hello from HLS").count(),
                "the chat message over the same socket")
    await shoot(viewer, "hls-data-saver-zh")
    await viewer.reload()  # remembered: straight to HLS
    await _mode(viewer, "hls")
    await hls_plays(viewer)
    await viewer.uncheck("#data-saver")
    await _mode(viewer, "webrtc")
    await video_flows(viewer)
    assert not errors, errors


async def test_a_viewer_whose_udp_is_blocked_lands_on_hls(
        pavilion_app: Start, browser: Any, links: Links,
        chromium_in: Callable[[Link], Awaitable[Any]]) -> None:
    """A firewall that drops UDP: the viewer's namespace drops every UDP packet it sends
    (a ``tc`` u32 filter on its end of the veth), so ICE cannot connect; HTTP still works."""
    link = links.new()
    running = await _node(pavilion_app, listen=[link.host_address])
    await _go_live(running, browser)
    _drop_udp(link)
    await link.forward(running.settings.port)
    viewer = await (await chromium_in(link)).new_page()
    await viewer.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang=ru")
    await _mode(viewer, "hls")
    await hls_plays(viewer)
    reason = await viewer.locator("#delivery-reason").inner_text()
    assert reason.startswith("Ваша сеть"), reason
    assert await viewer.evaluate(INBOUND) == [] or all(
        s["decoded"] == 0 for s in await viewer.evaluate(INBOUND)), "no WebRTC media came"
    await shoot(viewer, "hls-udp-blocked-ru")


def _drop_udp(link: Link) -> None:
    """Every UDP packet the viewer sends goes to a class whose token bucket (1 byte deep)
    passes none; TCP takes the default class. (This kernel has neither ``prio`` nor tc
    actions, so ``action drop`` is not available.)"""
    tc = ["ip", "netns", "exec", link.namespace, "tc"]
    for args in (["qdisc", "replace", "dev", "v0", "root", "handle", "1:", "htb", "default", "10"],
                 ["class", "add", "dev", "v0", "parent", "1:", "classid", "1:10", "htb", "rate",
                  "10gbit"],
                 ["class", "add", "dev", "v0", "parent", "1:", "classid", "1:20", "htb", "rate",
                  "8kbit"],
                 ["qdisc", "add", "dev", "v0", "parent", "1:20", "handle", "20:", "tbf", "rate",
                  "8bit", "burst", "10", "limit", "1"],
                 ["filter", "add", "dev", "v0", "parent", "1:", "protocol", "ip", "u32", "match",
                  "ip", "protocol", "17", "0xff", "flowid", "1:20"]):
        subprocess.run([*tc, *args], check=True, capture_output=True)


async def test_full_seats_send_the_next_viewer_to_hls_and_back(
        pavilion_app: Start, browser: Any) -> None:
    # a seat is asked for again every `[hls] seat_retry_s` (20 s by default), and a closed
    # page's seat is freed when its session's `reconnect_grace_s` (20 s) ends: 2 s and 1 s here
    running = await pavilion_app(demo=True, media={"max_viewers_per_track": 1},
                                 hls={"webrtc_timeout_s": 3, "studio_h264": False,
                                      "seat_retry_s": 2},
                                 signaling={"reconnect_grace_s": 1})
    await _go_live(running, browser)
    first = await browser.new_page()
    await first.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang=en")
    await video_flows(first)
    second = await browser.new_page()
    await second.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang=ko")
    await _mode(second, "hls")
    await hls_plays(second)
    assert await first.evaluate(MODE) == "webrtc"
    await first.close()  # its seat frees up 1 s later: asked for again within 2 s
    await _mode(second, "webrtc", within_s=20)
    await video_flows(second)


async def test_a_forums_audience_with_data_saver_watches_the_hls_program(
        pavilion_app: Start, browser: Any) -> None:
    """The forum's audience view: data saver hides the stage's WebRTC tiles (their seats are
    freed) and plays the room's HLS program; unticked, the tiles come back."""
    running = await _node(pavilion_app)
    moderator = await browser.new_page()
    await moderator.goto(f"{running.url}/forum/{LIVE_FORUM}?lang=en&token="
                         + token("moderator-1", LIVE_FORUM, STAFF, "Moderator"))
    await until(lambda: moderator.locator("#moderation").is_visible(), "moderator panel")
    speaker = await browser.new_page()  # raises a hand, is invited up, accepts
    await speaker.goto(f"{running.url}/forum/{LIVE_FORUM}?lang=en")
    await until(lambda: speaker.locator("#hand").is_visible(), "the raise-hand button")
    await speaker.click("#hand")
    hand = moderator.locator("#hands li")
    await until(hand.count, "the raised hand at the moderator")
    await hand.first.locator("button").click()
    await until(lambda: speaker.locator("#invite-accept").is_visible(), "the invitation")
    await speaker.click("#invite-accept")
    plane = running.app[MEDIA_KEY]

    async def on_air() -> bool:
        return any(s.kind == "video" for s in plane.sources.get(LIVE_FORUM, {}).values())

    await until(on_air, "the speaker's camera on the plane")
    audience = await browser.new_page()
    errors: list[str] = []
    audience.on("pageerror", lambda exc: errors.append(str(exc)))
    await audience.goto(f"{running.url}/forum/{LIVE_FORUM}?lang=mn")
    await video_flows(audience)
    await audience.check("#data-saver")
    await _mode(audience, "hls")
    assert await audience.locator("#stage").is_hidden()
    first = await until(lambda: audience.evaluate(PROGRAM_TIME), "the HLS program to play",
                        tries=600)
    await until(lambda: audience.evaluate(f"{PROGRAM_TIME} > {first} + 1.5"),
                "the program to advance")
    await shoot(audience, "hls-forum-program-mn")
    await audience.uncheck("#data-saver")
    await _mode(audience, "webrtc")
    await video_flows(audience)
    assert await audience.locator("#program").is_hidden()
    assert not errors, errors


async def test_an_hls_viewer_rides_through_the_publisher_reconnecting(
        pavilion_app: Start, browser: Any) -> None:
    """Issue 16 §5 on the page: the studio reloads (its tracks end and come back); the HLS
    viewer stays on HLS and plays on past the discontinuity."""
    running = await _node(pavilion_app)
    studio = await _go_live(running, browser)
    viewer = await browser.new_page()
    errors: list[str] = []
    viewer.on("pageerror", lambda exc: errors.append(str(exc)))
    await viewer.add_init_script(SAVER)
    await viewer.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang=en")
    await _mode(viewer, "hls")
    await hls_plays(viewer)
    await studio.reload()
    await until(lambda: studio.locator("#camera option").count(), "camera picker")
    if await studio.locator("#go-live").is_enabled():
        await studio.click("#go-live")
    await until(lambda: studio.locator("#end-live").is_enabled(), "the studio on air again")
    before = await viewer.evaluate(TIME)
    await until(lambda: viewer.evaluate(f"() => document.getElementById('video').currentTime "
                                        f"> {before} + 6"), "playback past the reconnect",
                tries=400)
    assert await viewer.evaluate(MODE) == "hls"
    assert await viewer.locator("#stream-status").is_hidden(), "no 'waiting' over the video"
    assert not errors, errors
