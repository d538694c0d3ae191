"""The viewer side of bench/cascade.py: one process of WHEP viewers, driven over a pipe.

Thousands of viewers do not fit one Python process (one GIL: its event loop and its counting
thread), so bench/cascade.py starts several of these, each pinned to one client core. Each
holds the viewers it is given, POSTs their offers to the node named for each (WHEP, following
a 307 as a player does), and counts what they receive with bench/fanout.py's
:class:`~bench.fanout.CountingReader` (a thread on the sockets; the RTP header is in clear in
SRTP, RFC 3711 §3.1) or, for the ``decrypt`` ones, after aiortc's SRTP unprotect, so broken
SRTP cannot pass as delivery (DESIGN.md §3).

Commands (``(command, payload)`` over the pipe, one reply each; an exception is sent back):
``add`` a list of :class:`Job` -> viewers now held; ``reset`` -> starts a counting window;
``tally`` -> :class:`Tally` of the window; ``stop`` -> closes every viewer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import aiohttp

from bench.clip import VIDEO_RATE
from bench.fanout import BenchViewer, Count, CountingReader
from bench.nodes import pin

MAX_REDIRECTS = 3
FRAME_STEP = 90000 // VIDEO_RATE  # RTP clock ticks between two frames of the clip


@dataclass(frozen=True)
class Job:
    """One viewer to add: the node's base URL, its WHEP path, its token, and whether it
    decrypts."""

    node: str
    path: str
    token: str
    decrypt: bool


@dataclass(frozen=True)
class Tally:
    """What this process's viewers received in the window, summed over viewers."""

    viewers: int
    connected: int
    packets: int
    frames: int  # distinct video frames, summed over viewers
    frames_expected: int  # per viewer: its frames' RTP timestamp span, or a floor (tally)
    frames_spanned: int  # per viewer: its frames' RTP timestamp span alone
    short: int  # viewers whose span is under the floor (stalled, or read very late)
    short_detail: tuple[str, ...]  # up to a few of them: node, decrypting or not, span
    got: int  # distinct sequence numbers received
    expected: int  # the span those sequence numbers cover
    checked_got: int  # the same, for the decrypting viewers only
    checked_expected: int
    broken: int  # decrypted packets that did not parse
    redirected: int  # viewers a node sent elsewhere (307): not served where they were sent
    late: int  # viewers adopted by the counting thread after a slow ICE (see _adopt_late)
    unadopted: int  # counting viewers the thread never got: they count as receiving nothing
    cpu_s: float  # this process's CPU time since ``reset``
    wall_s: float


def clients_process(cores: set[int], conn: Any) -> None:
    pin(0, cores)
    asyncio.run(_serve(conn))


async def _serve(conn: Any) -> None:
    loop = asyncio.get_running_loop()
    group = ViewerGroup(CountingReader(loop))
    while True:
        command, payload = await loop.run_in_executor(None, conn.recv)
        try:
            if command == "add":
                conn.send(await group.add(*payload))
            elif command == "reset":
                conn.send(group.reset())
            elif command == "tally":
                conn.send(group.tally(payload))
            else:
                await group.close()
                conn.send(None)
                return
        except Exception as exc:  # report it to the driver instead of dying silently
            conn.send(RuntimeError(f"clients: {command} failed: {exc!r}"))


def frame_span(timestamps: list[int]) -> int:
    """Video frames sent between the first and last RTP timestamp seen: the clip's frames are
    exactly ``90000 / VIDEO_RATE`` apart, and the nodes only offset timestamps (RFC 3550
    §5.1), so a missing frame shows as a gap whatever the timing."""
    if not timestamps:
        return 0
    ref = timestamps[0]
    offsets = [(t - ref + 2**31) % 2**32 - 2**31 for t in timestamps]  # unwrap
    return (max(offsets) - min(offsets)) // FRAME_STEP + 1


class ViewerGroup:
    """This process's viewers and their counting window."""

    def __init__(self, reader: CountingReader) -> None:
        self.reader = reader
        self.viewers: list[BenchViewer] = []
        self.jobs: list[Job] = []  # what each viewer was added as
        self._http: aiohttp.ClientSession | None = None
        self._cpu0 = self._wall0 = 0.0
        self.redirected = 0
        self.late = 0  # viewers whose socket went to the counting thread only after accept

    async def add(self, jobs: list[Job], parallel: int) -> int:
        """Connect ``jobs``, ``parallel`` at a time (a node's DTLS handshakes queue otherwise)."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        for start in range(0, len(jobs), parallel):
            batch = jobs[start:start + parallel]
            self.viewers += await asyncio.gather(*(self._connect(job) for job in batch))
            self.jobs += batch
        return len(self.viewers)

    async def _connect(self, job: Job) -> BenchViewer:
        assert self._http is not None
        viewer = BenchViewer(job.decrypt, self.reader)
        offer = await viewer.offer()
        url = job.node + job.path
        headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {job.token}"}
        for _ in range(MAX_REDIRECTS + 1):
            async with self._http.post(url, data=offer, headers=headers,
                                       allow_redirects=False) as response:
                status, text = response.status, await response.text()
                location = response.headers.get("Location", "")
            if status in (307, 308) and location:
                url = urljoin(url, location)
                self.redirected += 1
                continue
            if status != 201:
                raise RuntimeError(f"WHEP {url}: {status} {text.strip()[:200]}")
            await viewer.accept(text)
            if not job.decrypt and not self._adopted(viewer):
                await self._adopt_late(viewer)
            if not job.decrypt:
                self._adopt_all(viewer)
            return viewer
        raise RuntimeError(f"WHEP {job.node}: too many redirects")

    def _adopted(self, viewer: BenchViewer) -> bool:
        return any(v is viewer for v, _, _ in self.reader._viewers.values())

    async def _adopt_late(self, viewer: BenchViewer) -> None:
        """``BenchViewer.accept`` hands the socket to the counting thread after 10 s even if
        ICE has not nominated a pair yet (a loaded machine); such a viewer would be counted as
        receiving nothing. Wait up to 30 s more, then hand its nominated pair over."""
        for _ in range(300):
            if viewer.pc.connectionState == "connected":
                break
            await asyncio.sleep(0.1)
        video = next(t for t in viewer.pc.getTransceivers() if t.kind == "video")
        for pair in video.receiver.transport.transport._connection._nominated.values():
            self.reader.adopt(viewer, pair.protocol)
        self.late += 1

    def _adopt_all(self, viewer: BenchViewer) -> None:
        """Hand every ICE socket of ``viewer`` to the counting thread, not only the pair
        nominated at accept time: ICE may nominate another pair later (the node follows it,
        ``path_changes`` in its metrics), and a viewer read on the old socket only would count
        as receiving nothing."""
        video = next(t for t in viewer.pc.getTransceivers() if t.kind == "video")
        taken = {id(protocol) for _, _, protocol in self.reader._viewers.values()}
        for protocol in video.receiver.transport.transport._connection._protocols:
            if id(protocol) not in taken:
                self.reader.adopt(viewer, protocol)

    def reset(self) -> int:
        for viewer in self.viewers:
            viewer.count = Count()
        self._cpu0, self._wall0 = time.process_time(), time.monotonic()
        return len(self.viewers)

    def tally(self, at_least: int) -> Tally:
        """The window so far. A viewer's expected frames are its own timestamp span, but at
        least ``at_least`` (the driver's floor: the publisher's count less a lag), so a viewer
        that stalled or got nothing shows. Not this process's best viewer's span: the one
        counting thread drains socket after socket and, starved on a busy machine, reads some
        viewers a second later than others; a floor from the best one took that for loss."""
        counts = [(v.count, v.decrypt) for v in self.viewers]
        # list(set) copies in one C call, under the GIL: the counting thread keeps adding
        frames = [list(c.frames) for c, _ in counts]
        frame_spans = [frame_span(f) for f in frames]
        spans = [(c.span(), d) for c, d in counts]
        return Tally(
            viewers=len(self.viewers),
            connected=sum(v.pc.connectionState == "connected" for v in self.viewers),
            packets=sum(c.packets for c, _ in counts),
            # a timestamp off the clip's grid (a publisher restart) must not lift this past 100 %
            frames=sum(min(len(f), max(at_least, span))
                       for f, span in zip(frames, frame_spans, strict=True)),
            frames_expected=sum(max(at_least, span) for span in frame_spans),
            frames_spanned=sum(frame_spans),
            short=sum(span < at_least for span in frame_spans),
            short_detail=tuple(
                f"{job.node.rsplit(':', 1)[-1]}{' decrypting' if job.decrypt else ''} "
                f"span {span} frames {len(c.frames)} packets {c.packets}"
                for job, span, (c, _) in zip(self.jobs, frame_spans, counts, strict=True)
                if span < at_least)[:4],
            got=sum(g for (g, _), _ in spans),
            expected=sum(e for (_, e), _ in spans),
            checked_got=sum(g for (g, _), d in spans if d),
            checked_expected=sum(e for (_, e), d in spans if d),
            broken=sum(c.broken for c, _ in counts),
            redirected=self.redirected,
            late=self.late,
            unadopted=sum(not (j.decrypt or self._adopted(v))
                          for v, j in zip(self.viewers, self.jobs, strict=True)),
            cpu_s=time.process_time() - self._cpu0,
            wall_s=time.monotonic() - self._wall0,
        )

    async def close(self) -> None:
        self.reader.close()
        for viewer in self.viewers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(viewer.pc.close(), 5)
        if self._http is not None:
            await self._http.close()
