"""Handlers of the recording events (issue 15 §4): ``record.start``, ``record.stop``,
``record.consent``. Each acks; what the room hears (``room.recording``,
``record.consent_asked``, ``record.consent_changed``) is sent by
:class:`signaling.recording_link.RecordingLink`, which asks the recordings desk (the gate)."""

from __future__ import annotations

from signaling.errors import Ack, SignalingError, ok
from signaling.messages import ConsentAnswer, RoomRef
from signaling.ports import Handler, HubPort
from signaling.session import Session


def _joined(session: Session, room: str) -> None:
    if room not in session.rooms:
        raise SignalingError("not_joined", f"join room {room!r} first")


async def start(hub: HubPort, session: Session, msg: RoomRef) -> Ack:
    """Host, moderator or recorder: ``{recording}``, or ``{consent: "asked"}`` in a meeting."""
    return ok(**await hub.recordings.begin(session.token, msg.room))


async def stop(hub: HubPort, session: Session, msg: RoomRef) -> Ack:
    return ok(**await hub.recordings.end(session.token, msg.room))


async def consent(hub: HubPort, session: Session, msg: ConsentAnswer) -> Ack:
    _joined(session, msg.room)
    await hub.recordings.consent(session.token, msg.room, msg.agree)
    return ok()


HANDLERS: dict[str, Handler] = {
    "record.start": start,
    "record.stop": stop,
    "record.consent": consent,
}
