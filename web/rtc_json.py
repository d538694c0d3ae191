"""How the Socket.IO server parses packets: :class:`RtcPacket` (``AsyncServer(serializer=...)``).

python-socketio hands a packet's text after its ack id to ``json.loads``; a payload nested
30,000 levels deep makes that raise ``RecursionError`` inside the library's decoder, which logs
a full traceback per message (a log flood) and never acknowledges. Here :func:`loads` never
raises on a client's text: input that is not JSON, or is nested deeper than
:data:`web.json_body.MAX_DEPTH`, decodes to ``[<event name>, Undecodable(reason)]`` (the event
name recovered from the text where it can be, else :data:`UNKNOWN_EVENT`), so the packet keeps
its ack id and :meth:`signaling.session.Session.submit` answers ``bad_json``.

A ``Packet`` subclass rather than ``AsyncServer(json=...)``: that argument is set on the
library's shared ``Packet`` class and on Engine.IO's, which expects ``ValueError`` from
``loads`` for text that is not JSON (``probe``) and would get an ``Undecodable`` instead.
For valid input :func:`loads` is ``json.loads`` with Engine.IO's integer-size guard.
"""

from __future__ import annotations

import json
import re
from typing import Any

import socketio

from rooms.errors import InvalidInput
from signaling.schema import Undecodable
from web import json_body

UNKNOWN_EVENT = "?"
_EVENT = re.compile(r'\[\s*"([A-Za-z0-9_.:-]{1,64})"')  # the event name opens the array


def dumps(obj: Any, **kwargs: Any) -> str:
    return json.dumps(obj, **kwargs)


def loads(text: str | bytes, **_: Any) -> Any:
    """The packet's data, or ``[event, Undecodable]`` (or a bare ``Undecodable`` when the text
    is not an array, as in a connect packet's auth) for input that cannot be used."""
    try:
        return json_body.loads(text)
    except InvalidInput as exc:
        undecodable = Undecodable(exc.message)
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    if not raw.lstrip().startswith("["):
        return undecodable
    found = _EVENT.match(raw.lstrip()[:100])
    return [found.group(1) if found else UNKNOWN_EVENT, undecodable]


class _Json:
    """The ``json`` module interface (``loads``, ``dumps``) a Packet class calls."""

    loads = staticmethod(loads)
    dumps = staticmethod(dumps)


class RtcPacket(socketio.packet.Packet):  # type: ignore[misc]
    """python-socketio's packet, parsing with :func:`loads`."""

    json = _Json
