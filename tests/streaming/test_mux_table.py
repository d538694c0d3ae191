"""The pure demultiplexing rules of the one-port mode (streaming/mux_table.py), no sockets."""

from __future__ import annotations

import os
import struct

import pytest
from aioice import stun

from streaming.mux_table import DemuxTable, Drop, Kind, StunClass, classify, stun_head

ALICE, BOB = ("192.0.2.7", 50000), ("192.0.2.7", 50001)  # one IP, two ports (one NAT)
STRANGER = ("198.51.100.9", 40000)
DTLS = bytes([22, 0xFE, 0xFD]) + bytes(10) + os.urandom(40)
RTP = bytes([0x80, 96, 0, 1]) + struct.pack("!II", 1, 2) + os.urandom(40)


def message(cls: stun.Class, username: str | None = None,
            transaction: bytes | None = None) -> bytes:
    msg = stun.Message(message_method=stun.Method.BINDING, message_class=cls,
                       transaction_id=transaction or os.urandom(12))
    if username is not None:
        msg.attributes["USERNAME"] = username
    msg.add_message_integrity(b"password")
    msg.add_fingerprint()
    return bytes(msg)


def test_rfc7983_ranges() -> None:
    assert [classify(b) for b in (0, 3)] == [Kind.STUN] * 2
    assert [classify(b) for b in (20, 22, 63)] == [Kind.DTLS] * 3
    assert [classify(b) for b in (128, 191)] == [Kind.RTP] * 2
    assert [classify(b) for b in (4, 19, 64, 127, 192, 255)] == [Kind.OTHER] * 6


def test_stun_head_reads_class_transaction_and_username() -> None:
    data = message(stun.Class.REQUEST, "srv1:cli1", b"t" * 12)
    head = stun_head(data)
    assert head is not None
    assert (head.cls, head.transaction, head.username) == (StunClass.REQUEST, b"t" * 12,
                                                          "srv1:cli1")
    assert stun_head(data[:19]) is None  # short
    assert stun_head(data[:4] + b"\0\0\0\0" + data[8:]) is None  # no magic cookie
    assert stun_head(data[:2] + struct.pack("!H", 400) + data[4:]) is None  # length overruns
    no_user = stun_head(message(stun.Class.RESPONSE))
    assert no_user is not None and no_user.username is None


def test_requests_route_by_username_and_media_only_by_validated_address() -> None:
    table: DemuxTable[str] = DemuxTable(max_owners=10)
    table.add("alice", "srv1")
    table.add("bob", "srv2")
    # before ICE validated anything, only a check that names an agent reaches it
    assert table.route(message(stun.Class.REQUEST, "srv1:x"), ALICE).owner == "alice"
    assert table.route(message(stun.Class.REQUEST, "srv2:y"), ALICE).owner == "bob"
    assert table.route(message(stun.Class.REQUEST, "nobody:y"), ALICE).drop \
        is Drop.UNKNOWN_USERNAME
    for data in (DTLS, RTP, message(stun.Class.INDICATION)):
        assert table.route(data, ALICE).drop is Drop.UNKNOWN_ADDRESS
    table.bind("alice", ALICE)
    table.bind("bob", BOB)
    assert table.route(DTLS, ALICE).owner == "alice"
    assert table.route(RTP, BOB).owner == "bob"  # same IP, another port: another agent
    assert table.route(RTP, STRANGER).drop is Drop.UNKNOWN_ADDRESS
    assert table.route(b"\x50junk", ALICE).drop is Drop.NOT_WEBRTC
    assert table.route(b"\x01\x01short", ALICE).drop is Drop.MALFORMED_STUN


def test_responses_route_to_the_asker_once() -> None:
    table: DemuxTable[str] = DemuxTable(max_owners=10)
    table.add("alice", "srv1")
    table.asked("alice", b"q" * 12)
    response = message(stun.Class.RESPONSE, transaction=b"q" * 12)
    assert table.route(response, STRANGER).owner == "alice"
    assert table.route(response, STRANGER).drop is Drop.UNKNOWN_TRANSACTION
    assert table.route(message(stun.Class.ERROR), ALICE).drop is Drop.UNKNOWN_TRANSACTION


def test_an_address_moves_only_by_validation_and_entries_go_with_their_agent() -> None:
    table: DemuxTable[str] = DemuxTable(max_owners=10)
    table.add("alice", "srv1")
    table.add("bob", "srv2")
    table.bind("alice", ALICE)
    assert table.route(message(stun.Class.REQUEST, "srv2:y"), ALICE).owner == "bob"
    assert table.owner_of(ALICE) == "alice"  # a request is no validation: still alice's
    table.bind("bob", ALICE)  # bob's agent validated it (a client reused the port)
    assert table.owner_of(ALICE) == "bob" and table.addresses("alice") == []
    table.asked("bob", b"t" * 12)
    table.remove("bob")
    assert table.owner_of(ALICE) is None and table.transactions() == 0
    assert not table.has_ufrag("srv2")
    assert table.route(RTP, ALICE).drop is Drop.UNKNOWN_ADDRESS
    table.bind("bob", BOB)  # a late validation of a removed agent binds nothing
    assert table.owner_of(BOB) is None
    table.remove("bob")  # idempotent


def test_every_map_is_bounded() -> None:
    table: DemuxTable[str] = DemuxTable(max_owners=2, max_transactions=4, max_addresses=3)
    table.add("alice", "srv1")
    table.add("bob", "srv2")
    with pytest.raises(OverflowError):
        table.add("carol", "srv3")
    with pytest.raises(ValueError):
        table.add("alice", "srv4")
    for port in range(5):
        table.bind("alice", ("192.0.2.1", port))
    assert table.addresses("alice") == [("192.0.2.1", p) for p in (2, 3, 4)]
    assert table.owner_of(("192.0.2.1", 0)) is None
    table.bind("alice", ("192.0.2.1", 2))  # a consent check refreshes an address
    table.bind("alice", ("192.0.2.1", 9))
    assert ("192.0.2.1", 2) in table.addresses("alice")
    for n in range(10):
        table.asked("alice", bytes([n]) * 12)
    assert table.transactions() == 4
    table.asked("nobody", b"z" * 12)  # not registered: not kept
    assert table.transactions() == 4
