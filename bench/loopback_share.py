"""What share of a process's CPU is the kernel delivering its own datagrams to receivers on this
machine: the part of the fan-out's cost that loopback adds and a network card would not.

On loopback, ``sendmmsg`` does not stop at a driver: ``loopback_xmit`` queues each datagram on
this CPU's backlog and the softirq that the send itself raises runs the receive path at once (IP
and UDP input, the receiving socket's queue, waking its reader), charged to the sender
(``net_rx_action`` and below). The benchmark's viewers run on another core, so their own sends'
softirqs (RTCP, STUN to the server) run there, charged to them: what ``net_rx_action`` holds in
the server's samples is the delivery of the server's copies. ``perf record -g`` on the server's
process over the busy window, ``perf report --children`` for ``net_rx_action``'s share.

Needs Linux ``perf`` (Debian's ``linux-perf``) and the right to read kernel call chains (root,
or ``kernel.perf_event_paranoid`` <= 1); without them :func:`available` says why.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

RECEIVE_PATH = "net_rx_action"  # the softirq that runs loopback's receive path (net/core/dev.c)
_LINE = re.compile(r"^\s*(?P<children>[\d.]+)%\s+(?P<self>[\d.]+)%\s+\[(?P<space>[k.])\]\s+"
                   r"(?P<symbol>\S+)")


def available() -> str:
    """"" when :class:`LoopbackShare` can run here, else why not."""
    if shutil.which("perf") is None:
        return "perf is not installed (Debian: linux-perf)"
    try:
        paranoid = int(Path("/proc/sys/kernel/perf_event_paranoid").read_text())
    except (OSError, ValueError):
        return "no /proc/sys/kernel/perf_event_paranoid"
    if paranoid > 1 and os.geteuid() != 0:
        return f"kernel call chains need root or perf_event_paranoid <= 1 (it is {paranoid})"
    return ""


def share_of(report: str, symbol: str = RECEIVE_PATH) -> float:
    """``symbol``'s share (0-1) of all samples, children included, from ``perf report
    --children --sort symbol --stdio``; 0.0 when it never ran."""
    for line in report.splitlines():
        match = _LINE.match(line)
        if match and match["symbol"] == symbol:
            return float(match["children"]) / 100
    return 0.0


class LoopbackShare:
    """``perf record`` of one process between :meth:`start` and :meth:`stop`."""

    def __init__(self, pid: int, frequency: int = 999) -> None:
        self.pid, self.frequency = pid, frequency
        self._dir = tempfile.TemporaryDirectory(prefix="pavilion-perf-")
        self._data = Path(self._dir.name) / "perf.data"
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            "perf", "record", "-g", "-F", str(self.frequency), "-p", str(self.pid),
            "-o", str(self._data), "--quiet",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def stop(self) -> float:
        """Ends the recording; the receive path's share of the process's samples."""
        proc, self._proc = self._proc, None
        if proc is None:
            return 0.0
        proc.send_signal(signal.SIGINT)
        await proc.wait()
        report = await asyncio.create_subprocess_exec(
            "perf", "report", "-i", str(self._data), "--children", "--sort", "symbol",
            "--stdio", "--percent-limit", "0.5",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        out, _ = await report.communicate()
        self._dir.cleanup()
        return share_of(out.decode(errors="replace"))
