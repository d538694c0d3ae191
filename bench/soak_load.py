"""The client side of bench/soak.py: rooms that open and close, with their people, in one process.

Each of ``rooms`` slots loops until told to stop: the admin API opens a broadcast room, a
publisher sends a small pre-encoded VP8 clip + Opus into it (aiortc, over WHIP on even rounds,
over Socket.IO ``publish`` on odd ones), ``viewers`` viewers come and go (WHEP and Socket.IO
``subscribe``, alternately, each staying a few seconds), ``chatters`` Socket.IO clients join
from either node, chat at ``rate`` messages per second per room, react, and now and then drop
their connection and resume their session (``auth.session``, docs/protocol.md §6); after
``room_s`` everyone leaves and the admin API closes the room.

It runs in its own process (the sampler's latency probes must not wait behind this loop), driven
over a pipe: ``stop`` -> every room closes, then the :class:`Counts` come back.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import aiohttp
import socketio
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from bench.clip import AUDIO_FRAME, opus_clip, vp8_clip
from bench.fanout_servers import PacketTrack
from bench.nodes import pin
from rooms.token import Grant, mint
from streaming import aiortc_hooks

NS = "/rtc"
VIDEO_FPS = 15
TOKEN_TTL_S = 6 * 3600
CONNECT_WAIT_S = 20.0
CLIP = tuple[list[bytes], list[bytes]]


@dataclass(frozen=True)
class LoadPlan:
    """What the load does: node URLs, the admin key and token secret, and its size."""

    nodes: tuple[str, ...]
    api_key: str
    secret: str
    rooms: int = 3
    viewers: int = 4  # live at once per room
    chatters: int = 6  # Socket.IO clients per room
    rate: float = 2.0  # chat messages per second per room
    room_s: float = 60.0  # a room's life
    viewer_s: tuple[float, float] = (5.0, 20.0)  # a viewer's stay
    reconnect_p: float = 0.1  # chance per chat tick that a chatter drops and resumes
    seed: int = 1


@dataclass
class Counts:
    """What the load did (totals), and the errors it met by kind."""

    rooms: int = 0
    whip: int = 0
    sio_publish: int = 0
    whep: int = 0
    sio_subscribe: int = 0
    sessions: int = 0
    resumes: int = 0
    chats: int = 0
    reactions: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str, exc: BaseException | str) -> None:
        key = f"{what}: {exc if isinstance(exc, str) else type(exc).__name__}"
        self.errors[key] = self.errors.get(key, 0) + 1


def load_process(plan: LoadPlan, cores: set[int], conn: Any) -> None:
    """The load in its own process, pinned to ``cores`` where the OS allows."""
    if cores:
        pin(0, cores)
    asyncio.run(_serve(plan, conn))


async def _serve(plan: LoadPlan, conn: Any) -> None:
    """Commands (bench.fanout.Channel): ``start``, ``counts`` (so far), ``stop`` (-> counts)."""
    loop = asyncio.get_running_loop()
    load = Load(plan, (vp8_clip(30, (160, 96), 150_000), opus_clip()))
    while True:
        command, _ = await loop.run_in_executor(None, conn.recv)
        if command == "start":
            await load.start()
        elif command == "stop":
            await load.stop()
            conn.send(load.counts)
            return
        conn.send(load.counts)


class Load:
    """Every room slot's loop, owned: :meth:`stop` ends them and waits for their clean-up."""

    def __init__(self, plan: LoadPlan, clips: CLIP) -> None:
        self.plan, self.clips = plan, clips
        self.counts = Counts()
        self.random = random.Random(plan.seed)
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self._http is not None
        return self._http

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self._tasks = [asyncio.create_task(self._slot(k)) for k in range(self.plan.rooms)]

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.http.close()

    async def _slot(self, k: int) -> None:
        round_ = 0
        while not self._stopping.is_set():
            room = RoomRun(self, f"soak-{k}-{round_}", k, round_)
            try:
                await room.run()
            except Exception as exc:  # counted; the slot opens its next room
                self.counts.error("room", exc)
            round_ += 1

    def token(self, identity: str, room: str, grants: tuple[Grant, ...]) -> str:
        return mint(self.plan.secret, identity=identity, room=room, grants=grants,
                    ttl_s=TOKEN_TTL_S)

    async def admin(self, node: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.plan.api_key}"}
        async with self.http.request(method, f"{node}/api/admin{path}", json=body,
                                     headers=headers) as response:
            if response.status >= 300:
                raise RuntimeError(f"admin {method} {path}: {response.status} "
                                   f"{(await response.text())[:200]}")
            return await response.json()

    async def sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; True when the load stops meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()


HOST_GRANTS = (Grant.JOIN, Grant.PUBLISH, Grant.SUBSCRIBE, Grant.CHAT)
VIEWER_GRANTS = (Grant.JOIN, Grant.SUBSCRIBE, Grant.CHAT)


class RoomRun:
    """One room's life: open, publish, viewers and chat for ``room_s``, everyone out, close."""

    def __init__(self, load: Load, room: str, slot: int, round_: int) -> None:
        self.load, self.room, self.round = load, room, round_
        nodes = load.plan.nodes
        self.home = nodes[(slot + round_) % len(nodes)]  # placement "first": it takes the room
        self.host = f"host-{room}"
        self._people = 0

    async def run(self) -> None:
        load = self.load
        await load.admin(self.home, "POST", "/rooms", {
            "id": self.room, "kind": "broadcast", "pavilion": "new-media",
            "exhibitor": self.host, "state": "live", "title": {"en": self.room}})
        load.counts.rooms += 1
        try:
            publisher = await self._publisher()
            try:
                await self._live()
            finally:
                await publisher.close()
        finally:
            await load.admin(self.home, "POST", f"/rooms/{self.room}/close")

    async def _publisher(self) -> MediaClient:
        token = self.load.token(self.host, self.room, HOST_GRANTS)
        if self.round % 2 == 0:
            client: MediaClient = WhipClient(self.load, self.home, self.room, token)
            self.load.counts.whip += 1
        else:
            client = SioPublisher(self.load, self.home, self.room, token)
            self.load.counts.sio_publish += 1
        await client.open(self.load.clips)
        return client

    async def _live(self) -> None:
        plan = self.load.plan
        deadline = time.monotonic() + plan.room_s
        tasks = [asyncio.create_task(self._viewer_seat(deadline, i))
                 for i in range(plan.viewers)]
        tasks += [asyncio.create_task(self._chatter(deadline, i))
                  for i in range(plan.chatters)]
        await asyncio.gather(*tasks, return_exceptions=True)

    def _next_person(self) -> str:
        self._people += 1
        return f"p{self._people}-{self.room}"

    async def _viewer_seat(self, deadline: float, seat: int) -> None:
        """One seat: a viewer after another until the room's end (WHEP, Socket.IO alternately)."""
        load, n = self.load, seat
        while time.monotonic() < deadline and not load._stopping.is_set():
            token = load.token(self._next_person(), self.room, VIEWER_GRANTS)
            viewer: MediaClient
            if n % 2 == 0:
                viewer = WhepClient(load, self.home, self.room, token)
                load.counts.whep += 1
            else:
                viewer = SioViewer(load, self.home, self.room, token)
                load.counts.sio_subscribe += 1
            n += 1
            try:
                await viewer.open(load.clips)
                low, high = load.plan.viewer_s
                stay = min(load.random.uniform(low, high), deadline - time.monotonic())
                await load.sleep(max(0.0, stay))
            except Exception as exc:
                load.counts.error(type(viewer).__name__, exc)
            finally:
                await viewer.close()

    async def _chatter(self, deadline: float, i: int) -> None:
        load = self.load
        node = load.plan.nodes[i % len(load.plan.nodes)]  # chat crosses nodes over Redis
        chat = Chatter(load, node, self.room, load.token(self._next_person(), self.room,
                                                         VIEWER_GRANTS))
        period = load.plan.chatters / max(load.plan.rate, 1e-3)
        try:
            await chat.open()
            await load.sleep(load.random.uniform(0, period))
            while time.monotonic() < deadline and not await load.sleep(0):
                await chat.tick()
                await load.sleep(period)
        except Exception as exc:
            load.counts.error("chatter", exc)
        finally:
            await chat.close()


class MediaClient(abc.ABC):
    """A publisher or viewer: ``open`` connects its media, ``close`` ends it (never raises)."""

    @abc.abstractmethod
    async def open(self, clips: CLIP) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...


def recvonly_pc() -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    return pc


def sending_pc(clips: CLIP) -> RTCPeerConnection:
    frames, sound = clips
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    video = PacketTrack("video", frames, VIDEO_FPS, 90000 // VIDEO_FPS, 90000)
    pc.addTransceiver(PacketTrack("audio", sound, 50, AUDIO_FRAME, 48000), direction="sendonly")
    pc.addTransceiver(video, direction="sendonly")
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "video":
            transceiver.setCodecPreferences(
                [c for c in transceiver.sender.getCapabilities("video").codecs
                 if c.name == "VP8"])
    return pc


async def close_pc(pc: RTCPeerConnection | None) -> None:
    """Close a client peer and break aiortc's cycles (as the nodes do), so this process's
    memory stays flat too over a long soak."""
    if pc is None:
        return
    with contextlib.suppress(Exception):
        await pc.close()
    with contextlib.suppress(Exception):
        aiortc_hooks.release(pc)


async def connected(pc: RTCPeerConnection) -> None:
    """Wait for ICE + DTLS, or fail: a peer that never connects is an error of the run."""
    for _ in range(int(CONNECT_WAIT_S / 0.05)):
        if pc.connectionState == "connected":
            return
        if pc.connectionState in ("failed", "closed"):
            break
        await asyncio.sleep(0.05)
    raise RuntimeError(f"peer {pc.connectionState}, not connected")


class HttpMediaClient(MediaClient):
    """WHIP (``kind`` "whip", sends) or WHEP ("whep", receives): POST the offer, DELETE at end."""

    kind = "whep"

    def __init__(self, load: Load, node: str, room: str, token: str) -> None:
        self.load, self.node, self.room, self.token = load, node, room, token
        self.pc: RTCPeerConnection | None = None
        self.location = ""

    async def open(self, clips: CLIP) -> None:
        self.pc = sending_pc(clips) if self.kind == "whip" else recvonly_pc()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        url = f"{self.node}/{self.kind}/{self.room}"
        headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {self.token}"}
        for _ in range(3):
            async with self.load.http.post(url, data=self.pc.localDescription.sdp,
                                           headers=headers, allow_redirects=False) as response:
                status, text = response.status, await response.text()
                location = response.headers.get("Location", "")
            if status in (307, 308) and location:
                url = urljoin(url, location)
                continue
            if status != 201:
                raise RuntimeError(f"{self.kind} {status} {text.strip()[:120]}")
            self.location = urljoin(url, location)
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=text, type="answer"))
            await connected(self.pc)
            return
        raise RuntimeError(f"{self.kind}: too many redirects")

    async def close(self) -> None:
        if self.location:
            try:
                async with self.load.http.delete(
                        self.location,
                        headers={"Authorization": f"Bearer {self.token}"}) as response:
                    if response.status >= 300:
                        self.load.counts.error(f"{self.kind} delete", str(response.status))
            except Exception as exc:
                self.load.counts.error(f"{self.kind} delete", exc)
        await close_pc(self.pc)


class WhipClient(HttpMediaClient):
    kind = "whip"


class WhepClient(HttpMediaClient):
    kind = "whep"


class SioClient:
    """A python-socketio client on ``/rtc`` that joins one room; acks checked."""

    def __init__(self, load: Load, node: str, room: str, token: str) -> None:
        self.load, self.node, self.room, self.token = load, node, room, token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.session = ""
        self.sio.on("session", self._on_session, namespace=NS)
        self._ready = asyncio.Event()

    async def _on_session(self, data: Any) -> None:
        self.session = str(data.get("session", ""))
        self._ready.set()

    async def connect(self) -> None:
        self._ready.clear()
        auth = {"token": self.token} | ({"session": self.session} if self.session else {})
        await self.sio.connect(self.node, namespaces=[NS], transports=["websocket"],
                               auth=auth, wait_timeout=10)
        await asyncio.wait_for(self._ready.wait(), 10)
        self.load.counts.sessions += 1

    async def call(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = await self.sio.call(event, payload, namespace=NS, timeout=20)
        if not reply.get("ok"):
            raise RuntimeError(f"{event}: {reply.get('error', {}).get('code')}")
        return reply

    async def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


class SioPublisher(MediaClient):
    """Socket.IO ``join`` + ``publish`` (the browser's way); ``unpublish`` + ``leave`` at end."""

    def __init__(self, load: Load, node: str, room: str, token: str) -> None:
        self.client = SioClient(load, node, room, token)
        self.pc: RTCPeerConnection | None = None
        self.peer = ""

    def _pc(self, clips: CLIP) -> RTCPeerConnection:
        return sending_pc(clips)

    event, end_event = "publish", "unpublish"

    async def open(self, clips: CLIP) -> None:
        client = self.client
        await client.connect()
        await client.call("join", {"room": client.room})
        self.pc = self._pc(clips)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        reply = await client.call(self.event, {"room": client.room,
                                               "sdp": self.pc.localDescription.sdp})
        self.peer = str(reply["peer"])
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"],
                                                                 type="answer"))
        await connected(self.pc)

    async def close(self) -> None:
        client = self.client
        try:
            if self.peer and client.sio.connected:
                await client.call(self.end_event, {"room": client.room, "peer": self.peer})
            if client.sio.connected:
                await client.call("leave", {"room": client.room})
        except Exception as exc:
            client.load.counts.error(f"{self.end_event}", exc)
        await client.disconnect()
        await close_pc(self.pc)


class SioViewer(SioPublisher):
    """Socket.IO ``subscribe`` with the viewer's own recvonly offer (what the pages do)."""

    event, end_event = "subscribe", "unsubscribe"

    def _pc(self, clips: CLIP) -> RTCPeerConnection:
        return recvonly_pc()


class Chatter:
    """A Socket.IO member who chats, reacts, and sometimes drops and resumes its session."""

    def __init__(self, load: Load, node: str, room: str, token: str) -> None:
        self.load = load
        self.client = SioClient(load, node, room, token)

    async def open(self) -> None:
        await self.client.connect()
        await self.client.call("join", {"room": self.client.room})

    async def tick(self) -> None:
        load, client = self.load, self.client
        if load.random.random() < load.plan.reconnect_p:
            await client.disconnect()  # the session waits reconnect_grace_s for us
            await client.connect()
            load.counts.resumes += 1
        await client.call("chat.send", {"room": client.room, "text": f"soak {time.time():.0f}"})
        load.counts.chats += 1
        await client.call("reaction", {"room": client.room,
                                       "kind": load.random.choice(("like", "heart", "clap"))})
        load.counts.reactions += 1

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.client.sio.connected:
                await self.client.call("leave", {"room": self.client.room})
        await self.client.disconnect()
