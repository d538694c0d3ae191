"""What the UDP mux's and the ICE-TCP mux's per-agent transports share (issue 19 §1).

aioice's ``StunProtocol`` sends through an ``asyncio.DatagramTransport``. On the node's one UDP
port (streaming/udp_mux.py) and its one TCP port (streaming/tcp_mux.py) no transport owns a
socket: each agent's candidate gets a virtual one that hands what aioice sends to the mux, and
closing it tells the agent's :class:`~streaming.udp_mux.MuxPort`, which goes once all its
transports closed. Only ``sendto`` (and what ``get_extra_info`` adds) differs between the two.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from streaming.mux_table import Address

if TYPE_CHECKING:
    from streaming.udp_mux import MuxPort


class VirtualTransport(asyncio.DatagramTransport):
    """One agent's candidate's transport on a mux: closes once, telling its port."""

    def __init__(self, port: MuxPort, sockname: Address) -> None:
        super().__init__()
        self._port = port
        self._sockname = sockname  # the advertised address and the mux's port
        self._closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "sockname":
            return self._sockname
        return default

    def reaches(self, addr: Address) -> bool:
        """Whether what is sent to ``addr`` can still leave (the UDP socket is the node's and
        reaches any address while open; an ICE-TCP one only over a connection from there)."""
        return not self._closing

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._port.transport_closed(self)

    def abort(self) -> None:
        self.close()
