"""Whole video frames out of packets: order, loss and the wait for a keyframe (issue 15 §1).

The rules every video depacketizer shares, apart from the codec's payload format:

- A frame is the run of consecutive sequence numbers from a frame start to the packet with the
  marker bit (RFC 3550 §5.1; RFC 7741 §4.1, RFC 6184 §5.1 set it on a frame's last packet), or
  to the last packet before the timestamp changes.
- A packet may arrive up to ``reorder`` packets late (a NACK retransmission) and still fill its
  hole; later than that the hole is a loss.
- After a loss, a broken frame or a frame over the size bounds, every frame is dropped until a
  keyframe completes: :attr:`FrameAssembler.waiting` says so (its owner asks for a PLI), and the
  keyframe that ends the wait carries ``after_gap=True``. A stream starts out waiting too (a tap
  joins mid-GOP), without a gap.

Sequence numbers here are already unwrapped (:mod:`streaming.depacketize.unwrap`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

from streaming.frames import Frame

REORDER_PACKETS = 4  # a packet up to this many places late still fills its hole
MAX_FRAME_PACKETS = 2000  # a frame over this is broken (a 4K keyframe is ~500 packets)
MAX_FRAME_BYTES = 4 * 1024 * 1024


class Piece(NamedTuple):
    """What one packet brings to its frame (a tuple: one is made per packet, on the hot path).

    A packet of padding only (a sender's bandwidth probe) is a piece with no payload: it takes a
    sequence number, so it must not look like a loss.

    ``start``: the packet surely begins a frame (VP8: S bit and partition 0; H264 says nothing
    and sets it always). ``key``: the packet begins a keyframe, where the stream may resume
    after a loss. ``payload``: the codec's part of the packet, for the codec's ``build``.
    """

    ts: int
    marker: bool
    start: bool
    key: bool
    payload: bytes


Build = Callable[[list[Piece]], Frame | None]
"""The codec's frame out of one frame's pieces: ``None`` when there is nothing to show (an H264
access unit of parameter sets only); raises ``ValueError`` when the pieces are broken."""


class FrameAssembler:
    """Frames in order from pieces keyed by unwrapped sequence number; pure and bounded."""

    def __init__(
        self,
        build: Build,
        *,
        after_gap: bool = False,
        reorder: int = REORDER_PACKETS,
        max_packets: int = MAX_FRAME_PACKETS,
        max_bytes: int = MAX_FRAME_BYTES,
    ) -> None:
        self.waiting = True
        self._build = build
        self._gap = after_gap
        self._reorder = reorder
        self._max_packets = max_packets
        self._max_bytes = max_bytes
        self._pieces: dict[int, Piece] = {}
        self._bytes = 0
        self._next: int | None = None  # where the next frame starts; None: find a keyframe
        self._walked = 0  # pieces after _next already known to belong to its frame
        self._floor: int | None = None  # pieces at or below this are too late to matter
        self._highest: int | None = None

    def add(self, seq: int, piece: Piece) -> list[Frame]:
        """Take one packet's piece; return the frames it completed, in order."""
        if seq in self._pieces or self._too_late(seq):
            return []
        self._pieces[seq] = piece
        self._bytes += len(piece.payload)
        if self._highest is None or seq > self._highest:
            self._highest = seq
        if self._bytes > self._max_bytes or len(self._pieces) > self._max_packets:
            self._lose(self._highest)
        return self._drain()

    def _too_late(self, seq: int) -> bool:
        if self._floor is not None and seq <= self._floor:
            return True
        return self._next is not None and seq < self._next

    def _drain(self) -> list[Frame]:
        out: list[Frame] = []
        while self._next is not None or self._resync():
            end = self._frame_end()
            if end is None:
                if self._next is None:
                    continue  # lost: look for the next keyframe among what is here
                return out
            frame = self._frame(self._pop(end), end)
            if frame is not None:
                out.append(frame)
        return out

    def _frame(self, run: list[Piece], end: int) -> Frame | None:
        """The codec's frame of ``run`` (which ended at ``end``), as the wait allows."""
        try:
            frame = self._build(run)
        except ValueError:
            self._lose(end)
            return None
        if frame is None or not self.waiting:
            return frame
        if not frame.keyframe:
            self._skip(end)
            return None
        self.waiting = False
        gap, self._gap = self._gap, False
        return dataclasses.replace(frame, after_gap=gap) if gap else frame

    def _frame_end(self) -> int | None:
        """The sequence number of the next frame's last piece; ``None``: not complete (yet)."""
        start = self._next
        assert start is not None
        first = self._pieces.get(start)
        while first is not None and not first.payload and not first.start:
            del self._pieces[start]  # padding between frames (RFC 3550 §5.1 P bit): no loss
            start = self._next = start + 1
            first = self._pieces.get(start)
        if first is None:
            self._hole(start)
            return None
        if not first.start:
            self._lose(start)
            return None
        seq = start + self._walked
        piece = self._pieces[seq]
        while not piece.marker:
            if seq - start + 1 >= self._max_packets:
                self._lose(seq)
                return None
            after = self._pieces.get(seq + 1)
            if after is None:
                self._walked = seq - start
                self._hole(seq + 1)
                return None
            if after.ts != first.ts:
                return seq  # the frame ended without a marker: the next one has begun
            seq += 1
            piece = after
        return seq

    def _hole(self, seq: int) -> None:
        """A missing packet: wait for it within the reorder window, else it is lost."""
        assert self._highest is not None
        if self._highest - seq > self._reorder:
            self._lose(seq)

    def _pop(self, end: int) -> list[Piece]:
        assert self._next is not None
        run = [self._pieces.pop(seq) for seq in range(self._next, end + 1)]
        self._bytes -= sum(len(piece.payload) for piece in run)
        self._next = end + 1
        self._walked = 0
        return run

    def _resync(self) -> bool:
        """Start at the earliest keyframe start here; else keep only the reorder window."""
        keys = [seq for seq, piece in self._pieces.items() if piece.key]
        if keys:
            self._next = self._frame_start(min(keys))
            self._walked = 0
            self._drop_below(self._next)
            return True
        if self._highest is not None:
            self._drop_below(self._highest - self._reorder)
        return False

    def _frame_start(self, key: int) -> int:
        """Where the frame of the keyframe start ``key`` begins: H264 may put an SEI or an
        access unit delimiter in packets before it, with the same timestamp."""
        ts = self._pieces[key].ts
        while (before := self._pieces.get(key - 1)) and before.start and before.ts == ts:
            if before.marker:
                break
            key -= 1
        return key

    def _lose(self, after: int) -> None:
        """Frames up to ``after`` are broken: wait for a keyframe that starts past it."""
        self.waiting = True
        self._gap = True
        self._skip(after)

    def _skip(self, after: int) -> None:
        self._floor = after if self._floor is None else max(self._floor, after)
        self._next = None
        self._walked = 0
        self._drop_below(after + 1)

    def _drop_below(self, seq: int) -> None:
        for old in [old for old in self._pieces if old < seq]:
            self._bytes -= len(self._pieces.pop(old).payload)
