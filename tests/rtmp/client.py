"""A minimal RTMP publisher for tests that need to say exactly what an encoder sends (hostile
tags, the authorization matrix): handshake, connect, createStream, publish, then whatever
the test writes; it reads the server's onStatus answers."""

from __future__ import annotations

import asyncio
import os
import ssl
from typing import Any

from streaming.rtmp import amf0
from streaming.rtmp.chunks import COMMAND_AMF0, ChunkReader, ChunkWriter, Message
from streaming.rtmp.handshake import SIZE


class RtmpClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.chunks = ChunkReader()
        self.out = ChunkWriter()
        self.messages: list[Message] = []

    @classmethod
    async def connect(cls, port: int, app: str = "live",
                      tls: ssl.SSLContext | None = None) -> RtmpClient:
        """``tls``: RTMPS, the same exchange inside TLS."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
        client = cls(reader, writer)
        writer.write(b"\x03" + os.urandom(SIZE))
        s0s1s2 = await reader.readexactly(1 + 2 * SIZE)
        writer.write(s0s1s2[1:1 + SIZE])  # C2 echoes S1
        await client.command("connect", 1, {"app": app, "tcUrl": f"rtmp://127.0.0.1/{app}"})
        return client

    async def command(self, name: str, txn: float, *args: Any, stream: int = 0) -> None:
        body = amf0.encode(name, txn, *args)
        self.writer.write(self.out.write(3, COMMAND_AMF0, stream, 0, body))
        await self.writer.drain()

    async def send(self, type_id: int, timestamp: int, body: bytes) -> None:
        self.writer.write(self.out.write(6, type_id, 1, timestamp, body))
        await self.writer.drain()

    async def publish(self, key: str) -> dict[str, Any]:
        """createStream, publish ``key``; the onStatus info the server answers."""
        await self.command("createStream", 2, None)
        await self.command("publish", 3, None, key, "live", stream=1)
        return await self.status()

    async def status(self, within: float = 10.0) -> dict[str, Any]:
        """The next onStatus info object (``{}`` if the server closed without one)."""
        while True:
            for message in self.messages:
                values = amf0.decode_all(message.payload) if message.type_id == COMMAND_AMF0 \
                    else []
                if values and values[0] == "onStatus" and isinstance(values[3], dict):
                    self.messages.remove(message)
                    return values[3]
            data = await asyncio.wait_for(self.reader.read(65536), within)
            if not data:
                return {}
            self.messages += self.chunks.feed(data)

    async def closed(self, within: float = 10.0) -> bool:
        """True once the server closed the connection."""
        try:
            while await asyncio.wait_for(self.reader.read(65536), within):
                pass
        except (TimeoutError, ConnectionError):
            return False
        return True

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass
