"""Log lines name what they are about (issue 18 §3): the HTTP request id (echoed in
``X-Request-Id``), and a real publisher's peer lines -- written by aiortc-driven tasks of the
media plane -- carry its room, identity, Socket.IO session and node; ``pavilion serve`` with
``PAVILION_LOG_FORMAT=json`` writes one JSON object per line."""

from __future__ import annotations

import json
import logging
import signal
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import aiohttp
from aiohttp import web

from config.log_scrub import Scrubber
from config.logs import JsonFormatter
from rooms.room import RoomKind
from tests.fixtures.pavilion import PavilionProcess
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, make_room, token
from tests.streaming.clients import Publisher, Viewer, until


class _Lines(logging.Handler):
    """Formats each record as it is logged (the context is read then), parsed back."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter(Scrubber()))
        self.lines: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def about(self, text: str) -> list[dict[str, str]]:
        return [line for line in self.lines if text in line["msg"]]


@contextmanager
def _captured(*names: str) -> Iterator[_Lines]:
    lines = _Lines()
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(lines)
        logger.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(lines)
            logger.setLevel(level)


async def _logs_once(request: web.Request) -> web.Response:
    logging.getLogger("web.logtest").info("handled %s", request.match_info["room"])
    return web.Response(text="ok")


async def test_request_id_is_echoed_and_on_the_lines_of_its_request(pavilion_app):
    def prepare(app: web.Application) -> None:
        app.router.add_get("/logtest/{room}", _logs_once)
        app.router.add_get("/logtest/{room}/{peer}", _logs_once)

    node = await pavilion_app(prepare=prepare, node_id="node-logs")
    with _captured("web.logtest") as lines:
        async with aiohttp.ClientSession() as http:
            async with http.get(node.url + "/logtest/hall",
                                headers={"X-Request-Id": "lb-7f3a.1"}) as answer:
                assert answer.headers["X-Request-Id"] == "lb-7f3a.1"
            async with http.get(node.url + "/logtest/hall",
                                headers={"X-Request-Id": "bad id\"}"}) as answer:
                made = answer.headers["X-Request-Id"]
            async with http.get(node.url + "/logtest/hall/p-7"):
                pass
            async with http.get(node.url + "/no/such/page") as missing:  # an error answer
                assert missing.status == 404 and missing.headers["X-Request-Id"]
            async with http.post(node.url + "/whip/hall", data="v=0") as refused:
                assert refused.status == 401 and refused.headers["X-Request-Id"]
    assert made != "bad id\"}" and made.isalnum()
    first, second, third = lines.about("handled hall")
    assert (first["request_id"], first["node"], first["room"]) == ("lb-7f3a.1", "node-logs", "hall")
    assert second["request_id"] == made and "peer" not in second
    assert third["peer"] == "p-7" and third["request_id"] not in (made, "lb-7f3a.1")


async def test_a_peers_lines_carry_room_identity_session_and_peer(pavilion_app):
    node = await pavilion_app(demo=False, node_id="node-peers")
    await make_room(node, "live", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(node, token("host", "live", HOST))
    guest = await RtcClient.connect(node, token("guest", "live", VIEWER))
    await host.ok("join", {"room": "live"})
    await guest.ok("join", {"room": "live"})
    publisher = Publisher("vp8")
    reply = await host.ok("publish", {"room": "live", "sdp": await publisher.offer()})
    await publisher.accept(reply["sdp"])
    await guest.wait_for("track.published", lambda t: t["kind"] == "video")
    viewer = Viewer()
    with _captured("streaming") as lines:
        answer = await guest.ok("subscribe", {"room": "live", "sdp": await viewer.offer()})
        await viewer.accept(answer["sdp"])
        await until(lambda: viewer.count("video") >= 10)
        await viewer.close()  # the plane hears it from aiortc's tasks, started under its bind
        await until(lambda: bool(lines.about(f"peer {answer['peer']}")))
    ended = lines.about(f"peer {answer['peer']}")[0]
    assert (ended["room"], ended["identity"], ended["peer"], ended["node"]) == (
        "live", "guest", answer["peer"], "node-peers")
    assert ended["request_id"]  # the Socket.IO connection's HTTP request
    session_id = guest.session["session"]
    assert session_id.startswith(ended["session"]) and len(ended["session"]) < len(session_id)
    for client in (guest, host):
        await client.close()
    await publisher.close()


def test_serve_writes_json_lines(pavilion_process: Callable[..., PavilionProcess]) -> None:
    node = pavilion_process(env={"PAVILION_LOG_FORMAT": "json", "PAVILION_NODE_ID": "json-node"})
    request = urllib.request.Request(node.url + "/healthz", headers={"X-Request-Id": "probe-1"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.headers["X-Request-Id"] == "probe-1"
    assert node.stop(signal.SIGTERM) == 0
    output = node.output()
    objects = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    draining = [o for o in objects if "draining" in o["msg"]]
    assert draining, output
    assert draining[0]["node"] == "json-node" and draining[0]["level"] == "info"
    assert draining[0]["ts"].endswith("Z") and draining[0]["logger"] == "pavilion"
