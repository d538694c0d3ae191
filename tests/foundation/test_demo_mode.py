"""Demo mode is a demo (issue 11): a banner on every page in six languages, a warning at start, and
no start on a non-loopback address unless asked for (``demo_public`` / ``--demo-public``)."""

from __future__ import annotations

import html
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from config import LANGUAGES, ConfigError, load
from rooms.demo import LIVE_BROADCAST, LIVE_FORUM, MEETING
from tests.fixtures.pavilion import PavilionProcess, RunningApp
from tests.fixtures.ports import free_port
from tests.foundation.test_cli import ROOT
from web.catalog import load_catalogs

BANNER = ("Demo mode: this server gives every visitor staff, exhibitor and delegate links. "
          "Do not use it for a real event.")
PAGES = ["/", f"/watch/{LIVE_BROADCAST}", f"/forum/{LIVE_FORUM}", f"/meeting/{MEETING}",
         "/meetings", "/meetings/mine", "/meetings/dashboard/gobi-cashmere", "/no-such-page"]
StartApp = Callable[..., Awaitable[RunningApp]]


async def _pages(running: RunningApp, lang: str) -> dict[str, str]:
    found = {}
    async with aiohttp.ClientSession(headers={"Accept": "text/html"}) as http:
        for path in PAGES:
            async with http.get(f"{running.url}{path}?lang={lang}") as response:
                found[path] = await response.text()
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_every_page_says_demo_mode_in_its_language(pavilion_app: StartApp,
                                                         lang: str) -> None:
    running = await pavilion_app(demo=True)
    sentence = html.escape(load_catalogs().gettext(lang, BANNER))  # type: ignore[arg-type]
    assert lang == "en" or sentence != html.escape(BANNER)
    for path, page in (await _pages(running, lang)).items():
        assert f'<html lang="{lang}"' in page, path
        assert 'class="demo-banner"' in page and sentence in page, path


async def test_no_banner_outside_demo_mode(pavilion_app: StartApp) -> None:
    running = await pavilion_app(demo=False)
    for path, page in (await _pages(running, "en")).items():
        assert "demo-banner" not in page and "Demo mode" not in page, path


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "expo.example"])
def test_demo_mode_on_a_public_address_is_a_config_error(host: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load(env={"PAVILION_HOST": host})
    assert "\n" not in str(refused.value)
    assert str(refused.value).startswith("settings: demo: demo mode hands every visitor staff")
    assert "demo_public = true (--demo-public)" in str(refused.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_demo_mode_on_loopback_needs_nothing(host: str) -> None:
    assert load(env={"PAVILION_HOST": host}).demo


def test_demo_public_or_no_demo_may_serve_a_public_address() -> None:
    allowed = load(env={"PAVILION_HOST": "0.0.0.0", "PAVILION_DEMO_PUBLIC": "true"})
    assert allowed.demo and allowed.demo_public
    secret = "s" * 32
    assert not load(env={"PAVILION_HOST": "0.0.0.0", "PAVILION_DEMO": "false",
                         "PAVILION_SECRET": secret}).demo


def test_serve_refuses_demo_on_a_public_address_in_one_line_with_status_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "web.cli", "serve", "--host", "0.0.0.0", "--port",
         str(free_port())], cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, capture_output=True,
        text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert result.stderr.startswith("pavilion: configuration error: settings: demo: ")


def test_serve_in_demo_mode_warns_and_demo_public_lets_it_listen_everywhere(
    pavilion_process: Callable[..., PavilionProcess],
) -> None:
    node = pavilion_process("--host", "0.0.0.0", "--demo-public")
    assert node.stop(signal.SIGTERM) == 0
    output = node.output()
    assert "pavilion: warning: DEMO MODE: every visitor is handed staff" in output
