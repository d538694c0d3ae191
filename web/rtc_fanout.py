"""python-socketio client managers whose local room emit costs no task per recipient.

python-socketio's ``AsyncManager.emit`` already encodes a room emit once, but then creates one
asyncio task per recipient and waits for all of them. Sending to an Engine.IO socket only puts
the packet on that socket's queue (its writer task does the I/O), so the tasks buy nothing; in a
1,000-viewer room they were a large part of each frame's cost (bench/chat_fanout.py). These
managers send sequentially instead; everything else (rooms, callbacks, the Redis pub/sub that
carries emits between nodes) is python-socketio's own.

``RedisFanout`` puts :class:`LocalFanout` between ``AsyncPubSubManager`` and ``AsyncManager`` in
the MRO, so the pub/sub manager's delivery of a message from another node (its ``super().emit``)
uses the fast path too.
"""

from __future__ import annotations

from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet


class LocalFanout(socketio.AsyncManager):  # type: ignore[misc]
    async def emit(self, event: str, data: Any, namespace: str, room: str | None = None,
                   skip_sid: Any = None, callback: Any = None, to: str | None = None,
                   **kwargs: Any) -> None:
        room = to or room
        if callback is not None or namespace not in self.rooms:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                               callback=callback, **kwargs)
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace,
                                           data=[event, *args]).encode()
        frames = [eio_packet.Packet(eio_packet.MESSAGE, p)
                  for p in (encoded if isinstance(encoded, list) else [encoded])]
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        for sid, eio_sid in list(self.get_participants(namespace, room)):
            if sid not in skip:
                for frame in frames:
                    await self.server._send_eio_packet(eio_sid, frame)


class RedisFanout(socketio.AsyncRedisManager, LocalFanout):  # type: ignore[misc]
    """``AsyncRedisManager`` whose local delivery is :class:`LocalFanout`'s."""
