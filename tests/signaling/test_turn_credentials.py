"""TURN REST API credentials (signaling/turn.py): the username's shape, the HMAC against vectors
computed outside Python (``openssl dgst -sha1 -hmac``), and against RFC 2104's construction."""

from __future__ import annotations

import base64
import hashlib

import pytest
from pydantic import SecretStr

from config import IceServer, TurnSettings
from signaling import turn

SECRET = "pavilion-turn-shared-secret-32-bytes!!"
OTHER = "another-secret-of-at-least-32-bytes-long"

# (secret, identity, now, ttl_s) -> (username, credential); the credentials were computed with
#   printf '%s' "$username" | openssl dgst -sha1 -hmac "$secret" -binary | base64
VECTORS = [
    (SECRET, "ann", 1_700_000_000, 3_600, "1700003600:ann", "zv+qOCSKUKHzpMJIzpkP+kyUdSA="),
    (SECRET, "visitor-0042", 1_700_000_000.9, 86_400, "1700086400:visitor-0042",
     "rZGTIZ4ZTHnV+FITurPOaJ7WoUI="),
    (OTHER, "a:b:c", 1_700_000_000, 60, "1700000060:a_b_c", "Y9r8dJbFMMCRKUHW83rk5yKSrDw="),
    (SECRET, "", 1_700_000_000, 3_600, "1700003600", "i8GZjl3j6xgvYugxVeKfIEzHbh4="),
]


@pytest.mark.parametrize(("secret", "identity", "now", "ttl", "username", "credential"), VECTORS)
def test_mint_matches_openssl(secret: str, identity: str, now: float, ttl: int, username: str,
                              credential: str) -> None:
    cred = turn.mint(secret, identity, now=now, ttl_s=ttl)
    assert (cred.username, cred.credential) == (username, credential)
    assert cred.expires_at == int(username.split(":")[0])


def _rfc2104_hmac_sha1(key: bytes, message: bytes) -> bytes:
    """HMAC built by hand from RFC 2104 §2, not from the hmac module the code uses."""
    block = 64
    key = key.ljust(block, b"\0") if len(key) <= block else hashlib.sha1(key).digest().ljust(
        block, b"\0")
    inner = hashlib.sha1(bytes(k ^ 0x36 for k in key) + message).digest()
    return hashlib.sha1(bytes(k ^ 0x5C for k in key) + inner).digest()


@pytest.mark.parametrize("secret", [SECRET, OTHER, "k" * 80])  # 80 bytes: a key longer than a block
@pytest.mark.parametrize("username", ["1700003600:ann", "1:é", "2000000000:" + "x" * 128])
def test_credential_is_base64_of_hmac_sha1(secret: str, username: str) -> None:
    expected = base64.b64encode(_rfc2104_hmac_sha1(secret.encode(), username.encode())).decode()
    assert turn.credential_for(secret, username) == expected


@pytest.mark.parametrize(("identity", "expires", "username"), [
    ("ann", 5, "5:ann"),
    ("a:b", 5, "5:a_b"),  # the separator stays the expiry's
    ("名前", 7, "7:名前"),
    ("x" * 300, 9, "9:" + "x" * turn.IDENTITY_MAX_BYTES),
    ("é" * 100, 9, "9:" + "é" * 64),  # cut on a character, not inside one (2 bytes each)
    ("", 11, "11"),
])
def test_username_shape(identity: str, expires: int, username: str) -> None:
    assert turn.username_for(identity, expires) == username


def test_ice_servers_add_one_fresh_turn_entry_after_the_static_ones() -> None:
    static = [IceServer(urls=["stun:stun.expo.example:3478"])]
    settings = TurnSettings(urls=["turn:turn.expo.example:3478?transport=udp",
                                  "turns:turn.expo.example:5349"],
                            shared_secret=SecretStr(SECRET), ttl_s=600)
    first = turn.ice_servers(static, settings, "ann", now=1_000)
    later = turn.ice_servers(static, settings, "ann", now=2_000)
    assert first[0] == static[0]
    assert first[1].urls == list(settings.urls)
    assert (first[1].username, later[1].username) == ("1600:ann", "2600:ann")
    assert first[1].credential == turn.credential_for(SECRET, "1600:ann")
    assert turn.ice_servers(static, None, "ann", now=1_000) == static
