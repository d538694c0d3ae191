"""A room's tracks told again when its media node is seen again after a stall (issue 13).

A node that stalls past its load report's life (6 s by default: a long GC pause, a starved VM,
``SIGSTOP``) looks dead to the others, then reports again, still holding its rooms' media. Two
things its pages' peers would otherwise never hear:

* **A join meanwhile.** ``join`` on another node lists no tracks while the room's media node
  looks dead (signaling/snapshot.py: a dead node's tracks are not listed). If the node comes back
  before anyone sweeps it, no ``track.published`` follows: the page would wait for ever.
  :class:`MediaWaits` remembers each such join; at the first look at the directory that sees the
  node live again, :func:`tell_waiting` sends that session the room's recorded tracks as
  ``track.published``, to it alone (the room's other members have them).
* **A sweep meanwhile.** A live node swept it (rooms/cluster/sweeper.py): its tracks' record was
  dropped and every member told ``track.unpublished``. :func:`restore` (on the returning node, at
  each look) finds the record of a room whose lease it still holds gone, writes it again and
  tells the room ``track.published`` for each track: the pages subscribe again.

Both run at each look at the directory (web/cluster.py, every report interval).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rooms.errors import RoomsError
from rooms.store import Store
from signaling.outbox import Outbox
from signaling.wire import room_channel

if TYPE_CHECKING:
    from signaling.media_link import MediaLink
    from signaling.session import Session

log = logging.getLogger(__name__)
KEEP_S = 60.0  # a node silent this long was swept: its room's next publisher announces anew
MOST = 10_000  # joins remembered at once; the oldest go first


@dataclass(frozen=True, slots=True)
class MediaWait:
    """A session that joined ``room_id`` while its media node ``node_id`` looked dead."""

    node_id: str
    room_id: str
    session_id: str
    since: float  # time.monotonic()


class MediaWaits:
    """The joins still owed their room's tracks: pure, bounded, one entry per (room, session)."""

    def __init__(self, *, keep_s: float = KEEP_S, most: int = MOST) -> None:
        self.keep_s, self.most = keep_s, most
        self._waits: dict[tuple[str, str], MediaWait] = {}

    def __len__(self) -> int:
        return len(self._waits)

    def note(self, node_id: str, room_id: str, session_id: str, now: float) -> None:
        key = (room_id, session_id)
        self._waits.pop(key, None)  # a join again: the newest look counts
        while len(self._waits) >= self.most:
            del self._waits[next(iter(self._waits))]
        self._waits[key] = MediaWait(node_id, room_id, session_id, now)

    def due(self, live: Iterable[str], now: float) -> list[MediaWait]:
        """The waits whose node is live again, taken out; those older than ``keep_s`` go too
        (their node was swept, and whoever takes the room announces its tracks)."""
        alive = set(live)
        due = [w for w in self._waits.values() if w.node_id in alive]
        for wait in list(self._waits.values()):
            if wait.node_id in alive or now - wait.since > self.keep_s:
                del self._waits[(wait.room_id, wait.session_id)]
        return due


async def tell_waiting(waits: MediaWaits, live: Iterable[str], now: float, store: Store,
                       outbox: Outbox, sessions: Mapping[str, Session]) -> int:
    """Send each session whose room's media node is ``live`` again, and that is still in the
    room, the tracks that node recorded (if it still holds the room); returns how many sessions
    were told. A session whose socket is away meanwhile keeps waiting (it resumes, not joins)."""
    told = 0
    for wait in waits.due(live, now):
        session = sessions.get(wait.session_id)
        if session is None or wait.room_id not in session.rooms:
            continue
        if session.detached_at is not None:
            waits.note(wait.node_id, wait.room_id, wait.session_id, wait.since)
            continue
        try:
            lease = await store.get_lease(wait.room_id)
            recorded = await store.get_tracks(wait.room_id)
        except RoomsError as exc:
            log.warning("tracks of room %s not told to a late joiner: %s", wait.room_id, exc)
            continue
        if lease is None:  # it lapsed in the stall: the node's keeper claims it again
            waits.note(wait.node_id, wait.room_id, wait.session_id, wait.since)
            continue
        if lease.holder.node_id != wait.node_id:
            continue  # the room moved: its new node announces what it has
        if recorded is None or recorded[0] != wait.node_id:
            continue  # swept: the node records and announces them to the room (restore)
        for track in recorded[1]:
            await outbox.send(session.sid, "track.published", _published(wait.room_id, track))
        told += 1
    return told


async def restore(link: MediaLink, store: Store, node_id: str, outbox: Outbox) -> list[str]:
    """Record again, and announce, the tracks of each room whose media this node holds (its
    lease) but whose record is gone (swept while this node stalled, or a Redis that lost it).
    Returns the rooms restored."""
    restored = []
    for room, tracks in list(link.tracks.items()):
        if room not in link.recorded:
            continue  # its first record is being written (MediaLink._announce), or failed
        try:
            lease = await store.get_lease(room)
            if lease is None or lease.holder.node_id != node_id:
                continue
            if await store.get_tracks(room) is not None:
                continue
            await store.put_tracks(room, node_id, list(tracks.values()))
        except RoomsError as exc:
            log.warning("tracks of room %s not restored: %s", room, exc)
            continue
        log.warning("room %s: its tracks' record was gone (swept while this node stalled?); "
                    "recorded and announced again", room)
        for track in list(tracks.values()):
            await outbox.send(room_channel(room), "track.published", _published(room, track))
        restored.append(room)
    return restored


def _published(room: str, track: Mapping[str, Any]) -> dict[str, Any]:
    """The ``track.published`` payload of a recorded track (docs/protocol.md §4)."""
    return {"room_id": room, **{key: track.get(key)
                                for key in ("participant", "source", "kind", "codec")}}
