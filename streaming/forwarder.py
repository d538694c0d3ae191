"""Sequence number and timestamp munging for one viewer of one Source (pure, no network).

A viewer sees one continuous RTP stream with its own SSRC even when the publisher's stream
restarts (a reconnect, an encoder restart with a new SSRC and random sequence/timestamp bases,
RFC 3550 §5.1). The Forwarder keeps two offsets; the hot path reads them as plain attributes
and adds them, so mapping costs two additions.
"""

from __future__ import annotations

SEQ_MOD = 1 << 16
TS_MOD = 1 << 32

try:  # the compiled fan-out reads these four in place (streaming/_fastsend.c, issue 19)
    from streaming._fastsend import Numbers as _Numbers
except ImportError:  # not built: the same names in Python (the fallback, issue 19 §2)

    class _Numbers:  # type: ignore[no-redef]
        __slots__ = ("last_seq", "last_ts", "seq_offset", "ts_offset")

        seq_offset: int
        ts_offset: int
        last_seq: int
        last_ts: int


class Forwarder(_Numbers):
    """Maps publisher (sequence, timestamp) to viewer (sequence, timestamp).

    ``seq_offset`` and ``ts_offset`` are public so the fan-out loop can use them without a call.
    The first packet fixes the mapping to start at random-looking bases the caller picks; a
    :meth:`rebase` on a publisher change continues one past the last sequence number sent and
    ``gap_ticks`` after the last timestamp, so players see neither a jump nor a reset.
    """

    __slots__ = ("pending_gap", "started")  # the numbers are in the base: _Numbers

    def __init__(self, first_seq: int, first_ts: int) -> None:
        self.seq_offset = 0
        self.ts_offset = 0
        self.last_seq = (first_seq - 1) % SEQ_MOD
        self.last_ts = first_ts % TS_MOD
        self.started = False
        self.pending_gap: int | None = None

    def switch(self, gap_ticks: int) -> None:
        """The publisher's stream restarted; the next packet sent rebases ``gap_ticks`` later.

        The viewer's stream counts as started from here: an audio viewer, which never waits
        for a keyframe, is sent the publisher's numbers plus the initial offsets without a
        :meth:`rebase`, and its next timestamp must still move on by the gap (issue 17: a
        channel's handover repeated the last timestamp)."""
        self.pending_gap = max(1, gap_ticks)
        self.started = True

    def resume(self, seq: int, ts: int) -> None:
        """Start (or restart after skipping) at publisher packet (``seq``, ``ts``).

        After a skip inside one publisher stream only the sequence offset moves (time goes on);
        after a publisher switch, or for the first packet, both offsets are set.
        """
        if not self.started or self.pending_gap is not None:
            self.rebase(seq, ts, self.pending_gap or 0)
            self.pending_gap = None
        else:
            self.seq_offset = (self.last_seq + 1 - seq) % SEQ_MOD

    def rebase(self, seq: int, ts: int, gap_ticks: int) -> None:
        """Continue the viewer's stream from publisher packet (``seq``, ``ts``)."""
        next_seq = (self.last_seq + 1) % SEQ_MOD
        next_ts = (self.last_ts + (gap_ticks if self.started else 0)) % TS_MOD
        self.seq_offset = (next_seq - seq) % SEQ_MOD
        self.ts_offset = (next_ts - ts) % TS_MOD
        self.started = True

    def continue_at(self, seq: int, ts: int, out_ts: int) -> None:
        """Map publisher packet (``seq``, ``ts``) of another stream (a simulcast layer, issue 14
        §2) to the next viewer sequence number and to ``out_ts``, which the caller aligned."""
        self.seq_offset = (self.last_seq + 1 - seq) % SEQ_MOD
        self.ts_offset = (out_ts - ts) % TS_MOD
        self.started = True
        self.pending_gap = None

    def map(self, seq: int, ts: int) -> tuple[int, int]:
        """The viewer's (sequence, timestamp) for a publisher packet; records it as last sent."""
        out_seq = (seq + self.seq_offset) % SEQ_MOD
        out_ts = (ts + self.ts_offset) % TS_MOD
        self.last_seq = out_seq
        self.last_ts = out_ts
        return out_seq, out_ts

    def source_seq(self, viewer_seq: int) -> int:
        """The publisher's sequence number for a viewer's (for answering the viewer's NACK)."""
        return (viewer_seq - self.seq_offset) % SEQ_MOD

    def viewer_ts(self, source_ts: int) -> int:
        """The viewer's timestamp for a publisher timestamp (for sender report translation)."""
        return (source_ts + self.ts_offset) % TS_MOD
