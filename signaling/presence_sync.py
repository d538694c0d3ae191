"""``presence.sync``: the room's presence list again, after this node's pub/sub listener was away.

Presence events (``participant.joined``/``left``) cross nodes over Socket.IO's Redis pub/sub,
which drops whatever is published while a node is not subscribed: after a Redis outage, the ~1 s
before a node's listener is back lost the joins and leaves of other nodes' members (issue 13
§6: "presence back within 5 s"). The Store's presence is right by then, so once the listener has
subscribed again the node reads each room it has members in, once, and sends its own members
(``send_here``: no Redis round trip) the list as a join would: ``presence.sync`` on the room's
channel without hidden participants, then on the staff channel with them (staff are in both, and
the second is the one they keep). Clients replace their list with it (docs/protocol.md).

A Redis that came back empty has no presence until each node's keeper writes its own members
back (rooms/keeper.py, within ~1 s; silently: no ``participant.joined``), so the list is sent
twice: at once, and :data:`AGAIN_S` later; and this node's own members are in it either way
(the node holds them; its keeper is writing them back).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rooms.errors import RoomsError
from rooms.participant import Participant
from signaling.ports import HubPort
from signaling.wire import room_channel, staff_channel

log = logging.getLogger(__name__)
LISTED = 200  # as a join's list (signaling/snapshot.py): on stage first, then join order
AGAIN_S = 2.0  # past every keeper's write-back (a probe every 0.5 s, rooms/keeper.py)


def listing(present: list[Participant], *, staff: bool) -> dict[str, Any]:
    """The ``presence.sync`` payload for one audience (pure)."""
    shown = [p for p in present if staff or not p.hidden]
    first = [p for p in shown if p.on_stage]
    rest = [p for p in shown if not p.on_stage]
    listed = first + rest[:max(0, LISTED - len(first))]
    return {"participants": [p.to_dict() for p in listed], "participant_count": len(shown)}


async def resync(hub: HubPort, rooms: list[str], *, again_s: float = AGAIN_S) -> int:
    """Send ``presence.sync`` to this node's members of each of ``rooms``, now and ``again_s``
    later; how many rooms were sent the second time."""
    await send(hub, rooms)
    await asyncio.sleep(again_s)
    return await send(hub, rooms)


async def send(hub: HubPort, rooms: list[str]) -> int:
    """One ``presence.sync`` per room; a room the Store cannot list now is skipped."""
    sent = 0
    for room in rooms:
        try:
            present = await hub.store.list_participants(room)
        except RoomsError as exc:
            log.warning("presence of %s not re-sent: %s", room, exc)
            continue
        listed = {p.identity for p in present}
        present += [p for (r, who), p in hub.service.local.items()
                    if r == room and who not in listed]
        room_id = room
        await hub.outbox.send_here(room_channel(room_id), "presence.sync",
                                   {"room_id": room_id, **listing(present, staff=False)})
        if any(p.hidden for p in present):
            await hub.outbox.send_here(staff_channel(room_id), "presence.sync",
                                       {"room_id": room_id, **listing(present, staff=True)})
        sent += 1
    return sent
