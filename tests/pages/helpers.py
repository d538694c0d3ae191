"""Helpers for the room-page tests: tokens, media-flow polling, the untranslated-string check."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from config import LANGUAGES
from rooms.token import Grant, mint
from tests.fixtures.pavilion import TEST_SECRET
from web.catalog import LOCALE_DIR
from web.page_strings import ERRORS

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
STAFF = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT, Grant.MODERATE)
GUEST = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT)
SAME_IN_EVERY_LANGUAGE = {"Pavilion", "Forum", "Lobby"}
CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def token(identity: str, room: str, grants: tuple[Grant, ...], name: str = "") -> str:
    return mint(TEST_SECRET, identity=identity, room=room, grants=grants, ttl_s=6 * 3600,
                name=name or identity)


async def until(check: Any, what: str, tries: int = 300, pause: float = 0.1) -> Any:
    """Poll an async ``check`` until it returns something truthy (short waits, bounded)."""
    for _ in range(tries):
        value = await check()
        if value:
            return value
        await asyncio.sleep(pause)
    raise AssertionError(f"timed out waiting for {what}")


INBOUND = "() => window.pavilion?.inboundVideo ? window.pavilion.inboundVideo() : []"


async def video_flows(page: Any, min_frames: int = 20) -> dict[str, int]:
    """Wait until some inbound video has decoded ``min_frames`` and keeps decoding, with small
    loss: the issue's proof that media really flows (RTCPeerConnection.getStats())."""

    async def best() -> dict[str, int] | None:
        stats = await page.evaluate(INBOUND)
        good = [s for s in stats if s["decoded"] >= min_frames]
        return max(good, key=lambda s: s["decoded"]) if good else None

    first = await until(best, "video frames to be decoded")
    await asyncio.sleep(1.0)
    later = next(s for s in await page.evaluate(INBOUND) if s["label"] == first["label"])
    assert later["decoded"] > first["decoded"], (first, later)
    assert later["lost"] <= max(2, later["received"] // 50), later
    return later  # type: ignore[no-any-return]


async def tiles_flow(page: Any, plane: Any, prefix: str, count: int,
                     min_frames: int = 20) -> dict[str, str]:
    """Wait until ``count`` tiles (peer labels ``prefix:<identity>``) each decode video and keep
    decoding with small loss, and prove each tile shows ITS participant: the node's plane
    forwards that tile's peer only Sources published by that identity. Every fake camera looks
    the same, so what the server forwards is the proof of distinctness. Returns label -> peer.
    """

    async def decoding() -> list[dict[str, Any]] | None:
        stats = [s for s in await page.evaluate(INBOUND) if s["label"].startswith(prefix + ":")]
        good = [s for s in stats if s["decoded"] >= min_frames]
        return good if len(good) >= count else None

    first = {s["label"]: s for s in await until(decoding, f"{count} tiles decoding video")}
    assert len(first) == count, first
    await asyncio.sleep(1.0)
    later = {s["label"]: s for s in await page.evaluate(INBOUND) if s["label"] in first}
    for label, stat in later.items():
        assert stat["decoded"] > first[label]["decoded"], (first[label], stat)
        assert stat["lost"] <= max(2, stat["received"] // 50), stat
        identity = label.split(":", 1)[1]
        watched = {source.source_id for source, _ in plane.peer(stat["peer"]).subscriptions}
        assert f"{identity}/video0" in watched, (label, watched)
        assert all(w.startswith(f"{identity}/") for w in watched), (label, watched)
    assert len({s["ssrc"] for s in later.values()}) == count  # one stream per tile
    return {label: stat["peer"] for label, stat in later.items()}


def english_messages() -> set[str]:
    found: set[str] = set()
    for path in (LOCALE_DIR / "en" / "LC_MESSAGES").glob("*.po"):
        with path.open("rb") as fh:
            found |= {m.id for m in read_po(fh) if isinstance(m.id, str) and m.id}
    return found - SAME_IN_EVERY_LANGUAGE


VISIBLE_TEXT = """
() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || parent.closest('script,style,template,[hidden]')) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder],[aria-label],[title],option')) {
    if (el.closest('[hidden]')) continue;
    for (const name of ['placeholder', 'aria-label', 'title'])
      if (el.getAttribute(name)) out.push(el.getAttribute(name).trim());
  }
  return out;
}
"""


async def untranslated(page: Any) -> list[str]:
    """Visible strings that are English message ids or raw error codes (should be none)."""
    lang = await page.get_attribute("html", "lang")
    assert lang in LANGUAGES and lang != "en"
    english = english_messages()
    codes = set(ERRORS) | {"not_allowed", "room_full", "token_expired"}
    shown = await page.evaluate(VISIBLE_TEXT)
    return [s for s in shown if s in english or any(c in codes for c in CODE.findall(s))]


async def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


UNLABELED = """
() => [...document.querySelectorAll('button, input:not([type=hidden]), select, textarea, a[href]')]
  .filter((el) => !el.closest('[hidden]'))
  .filter((el) => {
    const named = (el.getAttribute('aria-label') || el.title || '').trim()
      || (el.tagName === 'BUTTON' || el.tagName === 'A' ? el.textContent.trim() : '')
      || (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent.trim())
      || el.closest('label')?.textContent.trim();
    return !named;
  })
  .map((el) => el.outerHTML.slice(0, 80))
"""


async def unlabeled(page: Any) -> list[str]:
    """Controls a screen reader could not name (issue 6: accessibility basics)."""
    return await page.evaluate(UNLABELED)  # type: ignore[no-any-return]
