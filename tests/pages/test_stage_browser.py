"""Issue 12 in real Chromium (fake camera and microphone), on a desktop and on a 390×844 phone,
each in several languages.

Point 9: a moderator's invitation to the stage is *asked*: the audience member sees a local
preview with camera and microphone pickers and declines (the moderator is told) or accepts (only
then does the audience get a tile); the speaker mutes (others see it), turns the camera off and
on, and leaves the stage; an answered question moves to the "answered" list.
Point 8: a visitor chooses a name that readers in other languages see in chat and the people
list; the exhibitor is one localized name in chat, the people list and the room's host line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rooms.demo import HOST_NAMES, LIVE_BROADCAST, LIVE_FORUM
from tests.fixtures.pavilion import RunningApp
from tests.pages.helpers import STAFF, shoot, tiles_flow, token, until, untranslated
from web.catalog import read_catalog
from web.media import MEDIA_KEY

pytestmark = pytest.mark.browser
Start = Callable[..., Awaitable[RunningApp]]
PHONE = {"width": 390, "height": 844}
# (viewport, moderator's language, the invited visitor's, the audience's)
LAYOUTS = [pytest.param(None, ("en", "ru", "zh"), id="desktop"),
           pytest.param(PHONE, ("ja", "zh", "ko"), id="phone")]
NAME = "Olga Petrova"
EXHIBITOR_NAMES = HOST_NAMES["changbai-foods"]


def word(lang: str, message: str, **values: str) -> str:
    """``message`` as a reader of ``lang`` sees it (the catalogs the pages use)."""
    entry = read_catalog(lang).get(message)  # type: ignore[arg-type]
    text = entry.string if entry is not None and entry.string else message
    return str(text) % values if values else str(text)


async def _pages(browser: Any, viewport: dict[str, int] | None, n: int,
                 errors: list[str]) -> list[Any]:
    pages = []
    for _ in range(n):  # each page its own browser context: its own remembered name
        context = await (browser.new_context(viewport=viewport) if viewport
                         else browser.new_context())
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        pages.append(page)
    return pages


async def _has_text(locator: Any, text: str) -> bool:
    return text in " ".join(await locator.all_text_contents())


async def _preview_plays(page: Any) -> bool:
    return bool(await page.evaluate(
        "() => { const v = document.getElementById('invite-preview');"
        " return v.srcObject && v.readyState >= 2 && v.videoWidth > 0; }"))


@pytest.mark.parametrize(("viewport", "langs"), LAYOUTS)
async def test_invitation_preview_decline_accept_controls_and_answered(
        pavilion_app: Start, browser: Any, viewport: dict[str, int] | None,
        langs: tuple[str, str, str]) -> None:
    running = await pavilion_app(demo=True)
    plane = running.app[MEDIA_KEY]
    errors: list[str] = []
    mod_lang, vis_lang, aud_lang = langs
    moderator, visitor, audience = await _pages(browser, viewport, 3, errors)
    await moderator.goto(f"{running.url}/forum/{LIVE_FORUM}?lang={mod_lang}&token="
                         + token("moderator-1", LIVE_FORUM, STAFF, "Chair"))
    await visitor.goto(f"{running.url}/forum/{LIVE_FORUM}?lang={vis_lang}")
    await audience.goto(f"{running.url}/forum/{LIVE_FORUM}?lang={aud_lang}")

    for page, lang in ((moderator, mod_lang), (visitor, vis_lang), (audience, aud_lang)):
        host = await page.locator(".room-head .host").text_content() or ""
        assert HOST_NAMES["expo-secretariat"][lang] in host, host  # the organiser, not a slug
    # point 8: the visitor picks a name; a reader in another language sees that name
    await until(lambda: visitor.locator("#name-form").is_visible(), "the name form")
    await visitor.fill("#name-text", NAME)
    await visitor.press("#name-text", "Enter")
    await until(lambda: _has_text(audience.locator("#people li"), NAME), "the name in people")
    await visitor.fill("#chat-text", "Здравствуйте")
    await visitor.press("#chat-text", "Enter")
    line = audience.locator("#chat-log li", has_text="Здравствуйте")
    await until(line.count, "the visitor's chat line at the audience")
    assert (await line.locator(".who").text_content()) == NAME

    # a new tab is the same visitor (the visitor cookie) and joins under the remembered name
    again = await visitor.context.new_page()
    await again.goto(f"{running.url}/forum/{LIVE_FORUM}?lang={vis_lang}")
    await until(lambda: again.locator("#name-form").is_visible(), "the name form in a new tab")
    assert await again.input_value("#name-text") == NAME
    other = await again.evaluate("() => window.pavilion.connection.identity")
    assert other == await visitor.evaluate("() => window.pavilion.connection.identity")
    await until(lambda: _has_text(audience.locator(f'#people li[data-identity="{other}"]'),
                                  NAME), "the remembered name at the audience")
    await again.close()

    async def invite() -> Any:
        await until(lambda: visitor.locator("#hand").is_visible(), "the raise-hand button")
        await visitor.click("#hand")
        hand = moderator.locator("#hands li", has_text=NAME)  # the same name at the moderator
        await until(hand.count, "the raised hand at the moderator")
        await hand.locator("button").first.click()
        await until(lambda: visitor.locator("#invite").is_visible(), "the invitation")
        await until(lambda: _preview_plays(visitor), "the local camera preview")
        return hand

    # point 9: asked first; declining tells the moderator, nobody went on stage
    await invite()
    await visitor.click("#invite-decline")
    told = word(mod_lang, "%(name)s declined the invitation to the stage.", name=NAME)
    await until(lambda: _has_text(moderator.locator("#notice"), told), "the decline, told")
    await until(lambda: visitor.locator("#invite").is_hidden(), "the invitation to close")
    assert await audience.locator("#stage figure").count() == 0

    # invited again: a preview with device choice, still nothing live before the accept
    hand = await invite()
    await until(lambda: _has_text(hand, word(mod_lang, "Invited")), "the invited mark")
    assert await visitor.locator("#invite-camera option").count() >= 1
    mics = visitor.locator("#invite-mic option")
    assert await mics.count() >= 1
    chosen = await mics.last.get_attribute("value")
    await visitor.select_option("#invite-mic", chosen)

    async def mic_switched() -> bool:
        return bool(await visitor.evaluate(
            "(id) => document.getElementById('invite-preview').srcObject?.getAudioTracks()[0]"
            "?.getSettings().deviceId === id", chosen))

    await until(mic_switched, "the preview on the chosen microphone")
    await until(lambda: _preview_plays(visitor), "the preview again")
    assert await audience.locator("#stage figure").count() == 0
    await shoot(visitor, f"stage-invitation-{'phone' if viewport else 'desktop'}-{vis_lang}")
    await visitor.click("#invite-accept")
    who = await visitor.evaluate("() => window.pavilion.connection.identity")
    tile = audience.locator(f'#stage figure[data-identity="{who}"]')
    await until(tile.count, "the speaker's tile at the audience")
    await until(lambda: _has_text(tile.locator("figcaption"), NAME), "the name on the tile")
    await tiles_flow(audience, plane, "speaker", 1)

    # the speaker's own controls; the others see the state
    await until(lambda: visitor.locator("#speaker-controls").is_visible(), "speaker controls")
    await visitor.click("#mic-toggle")
    muted = audience.locator(f'#stage figure.mic-off[data-identity="{who}"]')
    await until(muted.count, "the muted microphone at the audience")
    assert await _has_text(muted, word(aud_lang, "Microphone off"))
    await visitor.click("#camera-toggle")
    dark = audience.locator(f'#stage figure.camera-off[data-identity="{who}"]')
    await until(dark.count, "the camera off at the audience")
    assert await visitor.evaluate(
        "() => document.querySelector('#stage figure video').srcObject.getVideoTracks().length"
    ) == 0  # the camera itself is released, not just hidden
    await shoot(visitor, f"stage-speaker-controls-{'phone' if viewport else 'desktop'}-{vis_lang}")
    await visitor.click("#camera-toggle")
    await visitor.click("#mic-toggle")

    async def back_on() -> bool:
        return await audience.locator(f'#stage figure[data-identity="{who}"]'
                                      ":not(.mic-off):not(.camera-off)").count() == 1

    await until(back_on, "the microphone and camera on again at the audience")

    async def decoding_more() -> bool:
        stats = await audience.evaluate("() => window.pavilion.inboundVideo()")
        return any(s["label"] == f"speaker:{who}" and s["decoded"] > before for s in stats)

    before = max(s["decoded"] for s in await audience.evaluate(
        "() => window.pavilion.inboundVideo()") if s["label"] == f"speaker:{who}")
    await until(decoding_more, "video flowing again after the camera came back")

    # an answered question moves to the answered list
    await audience.fill("#ask-text", "When does the panel end?")
    await audience.press("#ask-text", "Enter")
    question = moderator.locator("#questions li", has_text="When does the panel end?")
    await until(question.count, "the question at the moderator")
    await question.locator("button").last.click()
    answered = audience.locator("#answered li", has_text="When does the panel end?")
    await until(answered.count, "the question in the audience's answered list")
    assert await audience.locator("#questions li", has_text="When does the panel").count() == 0

    # leaving the stage: the tile goes, the tracks end, the hand button is back
    await visitor.click("#stage-leave")

    async def tile_gone() -> bool:
        return await tile.count() == 0

    await until(tile_gone, "the tile to leave the audience's stage")
    await until(lambda: visitor.locator("#hand").is_visible(), "the hand button again")
    await until(lambda: visitor.locator("#speaker-controls").is_hidden(),
                "the speaker controls to go")
    for page, lang in ((moderator, mod_lang), (visitor, vis_lang), (audience, aud_lang)):
        if lang != "en":
            assert await untranslated(page) == [], lang
    assert errors == []


@pytest.mark.parametrize(("viewport", "langs"), LAYOUTS)
async def test_the_exhibitor_is_one_localized_name(
        pavilion_app: Start, browser: Any, viewport: dict[str, int] | None,
        langs: tuple[str, str, str]) -> None:
    running = await pavilion_app(demo=True)  # the demo room names its host (rooms/demo.py)
    errors: list[str] = []
    host, first, second = await _pages(browser, viewport, 3, errors)
    await host.goto(f"{running.url}/studio/{LIVE_BROADCAST}?lang=zh&token="
                    + token("changbai-foods", LIVE_BROADCAST, STAFF, "changbai-foods"))
    await until(lambda: host.locator("#chat-text").is_visible(), "the studio chat")
    await host.fill("#chat-text", "欢迎各位！")
    await host.press("#chat-text", "Enter")
    for page, lang in ((first, langs[1]), (second, langs[2])):
        await page.goto(f"{running.url}/watch/{LIVE_BROADCAST}?lang={lang}")
        mine = EXHIBITOR_NAMES[lang]
        line = page.locator("#chat-log li", has_text="欢迎各位！")
        await until(line.count, "the exhibitor's chat line")
        assert await line.locator(".who").text_content() == mine
        names = {await w.text_content() for w in await page.locator(
            "#chat-log li .who[data-name-of='changbai-foods']").all()}
        assert names == {mine}, names  # the seeded welcome lines too: one name, not three
        await until(lambda page=page, mine=mine: _has_text(page.locator("#people li"), mine),
                    "the exhibitor in the people list")
        assert mine in (await page.locator(".room-head .host").text_content() or "")
        if lang != "en":
            assert await untranslated(page) == [], lang
    lobby = (await _pages(browser, viewport, 1, errors))[0]
    await lobby.goto(f"{running.url}/?lang={langs[0]}")
    card_hosts = await lobby.locator(".host").all_text_contents()
    assert any(EXHIBITOR_NAMES[langs[0]] in h for h in card_hosts), card_hosts
    assert not any("changbai-foods" in h for h in card_hosts), card_hosts
    assert errors == []
