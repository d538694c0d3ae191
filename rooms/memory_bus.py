"""``MemoryBus``: the Bus within one process. Nodes that share a :class:`MemoryBroker` hear each
other, which lets the contract suite run two "nodes" in one test without Redis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rooms.bus import BusMessage, check_topic
from rooms.inbox import QueueInbox


class MemoryBroker:
    """The shared medium: every bus attached to it, each with its subscriptions."""

    def __init__(self) -> None:
        self._subscriptions: dict[str, set[QueueInbox]] = {}

    def attach(self, node_id: str, subscription: QueueInbox) -> None:
        self._subscriptions.setdefault(node_id, set()).add(subscription)

    def detach(self, node_id: str, subscription: QueueInbox) -> None:
        self._subscriptions.get(node_id, set()).discard(subscription)

    def send(self, message: BusMessage) -> None:
        for node_id, subscriptions in self._subscriptions.items():
            if node_id == message.origin:
                continue  # echo suppression: a node never hears itself
            for subscription in list(subscriptions):
                if message.topic in subscription.topics:
                    subscription.deliver(message)


class MemoryBus:
    def __init__(self, node_id: str, hub: MemoryBroker | None = None) -> None:
        self._node_id = node_id
        self._hub = hub or MemoryBroker()
        self._subscriptions: set[QueueInbox] = set()

    @property
    def node_id(self) -> str:
        return self._node_id

    async def publish(self, topic: str, kind: str, payload: Mapping[str, Any]) -> None:
        self._hub.send(BusMessage(check_topic(topic), kind, dict(payload), self._node_id))

    async def subscribe(self, *topics: str, maxsize: int = 256) -> QueueInbox:
        subscription = QueueInbox(
            frozenset(check_topic(t) for t in topics), maxsize, self._forget)
        self._subscriptions.add(subscription)
        self._hub.attach(self._node_id, subscription)
        return subscription

    def _forget(self, subscription: QueueInbox) -> None:
        self._subscriptions.discard(subscription)
        self._hub.detach(self._node_id, subscription)

    async def aclose(self) -> None:
        for subscription in list(self._subscriptions):
            await subscription.aclose()
