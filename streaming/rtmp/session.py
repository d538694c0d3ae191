"""One RTMP publishing connection as a state machine (RTMP spec 1.0 §7.2): bytes in, bytes
to send and :data:`Event` s out. No sockets, no clock: :mod:`streaming.rtmp.server` moves bytes.

The flow an encoder (FFmpeg, OBS, vMix) drives::

    handshake → connect          → Window Ack Size, Set Peer Bandwidth, Set Chunk Size,
                                   _result NetConnection.Connect.Success
              → releaseStream / FCPublish → _result (answered, nothing else)
              → createStream     → _result(stream id 1)
              → publish(key)     → :class:`Publish` event; the door decides, then
                                   :meth:`RtmpSession.start` (onStatus NetStream.Publish.Start)
                                   or :meth:`RtmpSession.refuse` (onStatus error, then close)
              → audio/video      → :class:`Media` events
              → FCUnpublish / deleteStream / closeStream → :class:`Unpublish`

Acknowledgements are sent when the encoder's window (its Window Ack Size) is crossed. Only
the application ``live`` is served; anything else is refused at connect.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

from streaming.rtmp import amf0, chunks
from streaming.rtmp.chunks import ChunkReader, ChunkWriter, Message
from streaming.rtmp.errors import RtmpError
from streaming.rtmp.handshake import Handshake

log = logging.getLogger(__name__)

APP = "live"
OUT_CHUNK = 4096
WINDOW = 5_000_000
STREAM_ID = 1
CONTROL_CSID, COMMAND_CSID, STATUS_CSID = 2, 3, 5
BAD_NAME = "NetStream.Publish.BadName"
REJECTED = "NetStream.Publish.Rejected"
MAX_COMMANDS_BEFORE_PUBLISH = 32


@dataclass(frozen=True, slots=True)
class Publish:
    """The encoder asks to publish ``key`` (the stream key: an access token)."""

    app: str
    key: str


@dataclass(frozen=True, slots=True)
class Media:
    """An audio (``kind="audio"``) or video message body at ``timestamp`` ms (the FLV dts)."""

    kind: str
    timestamp: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Unpublish:
    """The encoder stopped publishing (FCUnpublish, deleteStream, closeStream)."""


Event = Publish | Media | Unpublish


class RtmpSession:
    """``feed`` the socket's bytes; send what it returns; act on its events."""

    def __init__(self, epoch_ms: int = 0) -> None:
        self.state = "handshake"  # → connecting → connected → asking → publishing → ended
        self._handshake = Handshake(epoch_ms)
        self._reader = ChunkReader()
        self._writer = ChunkWriter()
        self._received = 0
        self._acked = 0
        self._peer_window = 0
        self._commands = 0
        self._publish_txn = 0.0
        self._app_key = ""

    def feed(self, data: bytes) -> tuple[bytes, list[Event]]:
        """Raises :class:`RtmpError` on anything to close the connection for."""
        if self.state == "ended":
            return b"", []
        if self.state == "handshake":
            out = self._handshake.feed(data)
            if not self._handshake.done:
                return out, []
            self.state = "connecting"
            more, events = self._messages(self._handshake.rest)
            return out + more, events
        return self._messages(data)

    def _messages(self, data: bytes) -> tuple[bytes, list[Event]]:
        self._received += len(data)
        out: list[bytes] = []
        events: list[Event] = []
        for message in self._reader.feed(data):
            sent, event = self._message(message)
            out.append(sent)
            if event is not None:
                events.append(event)
        out.append(self._ack())
        return b"".join(out), events

    def _ack(self) -> bytes:
        """An Acknowledgement (spec §5.4.3) each time the encoder's window is crossed."""
        if not self._peer_window or self._received - self._acked < self._peer_window:
            return b""
        self._acked = self._received
        return self._control(chunks.ACK, struct.pack(">I", self._received & 0xFFFFFFFF))

    def _message(self, message: Message) -> tuple[bytes, Event | None]:
        kind = message.type_id
        if kind == chunks.WINDOW_ACK and len(message.payload) >= 4:
            self._peer_window = struct.unpack(">I", message.payload[:4])[0]
            return b"", None
        if kind in (chunks.AUDIO, chunks.VIDEO):
            if self.state != "publishing":
                raise RtmpError("media arrived before publishing started")
            return b"", Media("audio" if kind == chunks.AUDIO else "video",
                              message.timestamp, message.payload)
        if kind == chunks.COMMAND_AMF0:
            return self._command(amf0.decode_all(message.payload))
        if kind in (chunks.COMMAND_AMF3, chunks.DATA_AMF3):
            raise RtmpError("AMF3 messages are not supported")
        return b"", None  # acks, user control, peer bandwidth, @setDataFrame metadata

    def _command(self, values: list[amf0.Value]) -> tuple[bytes, Event | None]:
        if len(values) < 2 or not isinstance(values[0], str):
            raise RtmpError("command message without a name and transaction id")
        name, txn = values[0], values[1]
        txn = float(txn) if isinstance(txn, int | float) else 0.0
        if self.state != "publishing":
            self._commands += 1
            if self._commands > MAX_COMMANDS_BEFORE_PUBLISH:
                raise RtmpError("too many commands before publishing")
        if name == "connect":
            return self._connect(txn, values[2] if len(values) > 2 else None), None
        if name in ("releaseStream", "FCPublish", "_checkbw", "getStreamLength"):
            return self._result(txn, None, None), None
        if name == "createStream":
            return self._result(txn, None, float(STREAM_ID)), None
        if name == "publish":
            return b"", self._publish(txn, values)
        if name in ("FCUnpublish", "deleteStream", "closeStream"):
            if self.state in ("publishing", "asking"):
                self.state = "ended"
                return b"", Unpublish()
            return b"", None
        log.debug("RTMP command %r ignored", name[:64])
        return b"", None

    def _connect(self, txn: float, info: amf0.Value) -> bytes:
        if self.state != "connecting":
            raise RtmpError("connect sent twice")
        app = info.get("app") if isinstance(info, dict) else None
        app = app.split("?", 1)[0].strip("/") if isinstance(app, str) else ""
        # an encoder given one URL may keep the key in the application ("live/KEY") and
        # publish an empty name: the key then comes from here
        app, _, self._app_key = app.partition("/")
        if app != APP:
            raise RtmpError(f"application {app[:64]!r} is not served; use rtmp://host/{APP}")
        self.state = "connected"
        out = [
            self._control(chunks.WINDOW_ACK, struct.pack(">I", WINDOW)),
            self._control(chunks.PEER_BANDWIDTH, struct.pack(">IB", WINDOW, 2)),
            self._control(chunks.SET_CHUNK_SIZE, struct.pack(">I", OUT_CHUNK)),
        ]
        self._writer.chunk_size = OUT_CHUNK
        properties: dict[str, amf0.Value] = {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0}
        status: dict[str, amf0.Value] = {
            "level": "status", "code": "NetConnection.Connect.Success",
            "description": "Connection succeeded.", "objectEncoding": 0.0}
        out.append(self._result(txn, properties, status))
        return b"".join(out)

    def _publish(self, txn: float, values: list[amf0.Value]) -> Publish:
        if self.state != "connected":
            raise RtmpError(f"publish in state {self.state}")
        key = values[3] if len(values) > 3 else None
        if not key and self._app_key:
            key = self._app_key
        if not isinstance(key, str) or not key:
            raise RtmpError("publish without a stream key")
        self.state = "asking"
        self._publish_txn = txn
        return Publish(APP, key.split("?", 1)[0])

    def start(self) -> bytes:
        """The door let the publish in: StreamBegin and onStatus NetStream.Publish.Start."""
        self.state = "publishing"
        begin = self._control(chunks.USER_CONTROL, struct.pack(">HI", 0, STREAM_ID))
        return begin + self._status("status", "NetStream.Publish.Start", "publishing")

    def refuse(self, code: str, reason: str) -> bytes:
        """The door refused: onStatus error with ``code`` and ``reason``; close after sending."""
        self.state = "ended"
        return self._status("error", code, reason)

    def stop(self, reason: str) -> bytes:
        """The server ends a running publish (kick, room end): onStatus, then close."""
        self.state = "ended"
        return self._status("status", "NetStream.Unpublish.Success", reason)

    def _status(self, level: str, code: str, description: str) -> bytes:
        info: dict[str, amf0.Value] = {"level": level, "code": code,
                                       "description": description[:200]}
        body = amf0.encode("onStatus", 0.0, None, info)
        return self._writer.write(STATUS_CSID, chunks.COMMAND_AMF0, STREAM_ID, 0, body)

    def _result(self, txn: float, *values: amf0.Value) -> bytes:
        body = amf0.encode("_result", txn, *values)
        return self._writer.write(COMMAND_CSID, chunks.COMMAND_AMF0, 0, 0, body)

    def _control(self, type_id: int, payload: bytes) -> bytes:
        return self._writer.write(CONTROL_CSID, type_id, 0, 0, payload)
