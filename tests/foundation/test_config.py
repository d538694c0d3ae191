"""Settings: precedence (env > file > defaults, CLI above all) and one-line errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from config import ConfigError, load

SECRET = {"PAVILION_SECRET": "s" * 32}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pavilion.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    settings = load(env=SECRET)
    assert (settings.host, settings.port, settings.redis_url) == ("127.0.0.1", 8080, None)
    assert settings.default_language == "en"
    assert settings.media.max_sdp_bytes == 20_000


def test_file_beats_defaults_and_env_beats_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'port = 9001\nhost = "0.0.0.0"\ndemo = false\n'
                           '[media]\nmax_sdp_bytes = 30000\n')
    from_file = load(file=path, env=SECRET)
    assert (from_file.port, from_file.host, from_file.media.max_sdp_bytes) == (
        9001,
        "0.0.0.0",
        30000,
    )
    env = {**SECRET, "PAVILION_PORT": "9002", "PAVILION_MEDIA__MAX_SDP_BYTES": "40000"}
    from_env = load(file=path, env=env)
    assert (from_env.port, from_env.host, from_env.media.max_sdp_bytes) == (9002, "0.0.0.0", 40000)
    assert load(file=path, env=env, overrides={"port": "9003"}).port == 9003


def test_ice_servers_from_env_json() -> None:
    env = {
        **SECRET,
        "PAVILION_ICE_SERVERS": '[{"urls": ["turn:turn.example:3478"], '
        '"username": "u", "credential": "c"}]',
    }
    (server,) = load(env=env).ice_servers
    assert server.urls == ["turn:turn.example:3478"] and server.username == "u"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"env": {**SECRET, "PAVILION_PORT": "notanumber"}},
            "port: Input should be a valid integer, unable to parse string as an integer (got 'notanumber')",  # noqa: E501
        ),
        (
            {"env": {**SECRET, "PAVILION_PORT": "70000"}},
            "port: Input should be less than or equal to 65535 (got '70000')",
        ),
        ({"env": {**SECRET, "PAVILION_COLOUR": "red"}}, "colour: unknown setting"),
        ({"env": {**SECRET, "PAVILION_MEDIA__BOGUS": "1"}}, "media.bogus: unknown setting"),
        (
            {"env": {**SECRET, "PAVILION_REDIS_URL": "http://x"}},
            "redis_url: must start with redis://, rediss://, unix:// or redis+sentinel:// (got 'http://x')",
        ),
        (
            {"env": {**SECRET, "PAVILION_DEFAULT_LANGUAGE": "fr"}},
            "default_language: Input should be 'zh', 'en', 'ja', 'ko', 'ru' or 'mn' (got 'fr')",
        ),
        (
            {"env": {"PAVILION_DEMO": "false"}},
            "settings: secret: required unless demo mode is on (set PAVILION_SECRET)",
        ),
        (
            {"env": {"PAVILION_SECRET": "short"}},
            "secret: must be at least 32 bytes (RFC 7518 §3.2) (got ***)",
        ),
        ({"env": {**SECRET, "PAVILION_ICE_SERVERS": "[{"}}, "PAVILION_ICE_SERVERS: not valid JSON"),
        (  # issue 19: one UDP port per node
            {"env": {**SECRET, "PAVILION_MEDIA__UDP_PORT": "70000"}},
            "media.udp_port: Input should be less than or equal to 65535 (got '70000')",
        ),
        (
            {"env": {**SECRET, "PAVILION_MEDIA__UDP_PORT": "3478",
                     "PAVILION_MEDIA__ANNOUNCE_IP": "media.expo.example"}},
            "media.announce_ip: must be an IPv4 or IPv6 address, not a name",
        ),
        (
            {"env": {**SECRET, "PAVILION_MEDIA__UDP_PORT": "3478",
                     "PAVILION_MEDIA__ANNOUNCE_IP": "0.0.0.0"}},
            "media.announce_ip: must be a unicast address clients can reach",
        ),
        (
            {"env": {**SECRET, "PAVILION_MEDIA__ANNOUNCE_IP": "203.0.113.5"}},
            "media: announce_ip needs udp_port (the one-port mode it is announced in)",
        ),
        (  # ICE-TCP rides on the one-port mode (docs/media.md "ICE-TCP")
            {"env": {**SECRET, "PAVILION_MEDIA__TCP_PORT": "7882"}},
            "media: tcp_port needs udp_port (ICE-TCP rides on the one-port mode)",
        ),
        (
            {"env": {**SECRET, "PAVILION_MEDIA__UDP_PORT": "7882",
                     "PAVILION_MEDIA__UDP_CANDIDATES": "false"}},
            "media: udp_candidates = false needs tcp_port (no candidate would be left)",
        ),
        (
            {"env": {**SECRET, "PAVILION_ICE_SERVERS": '[{"urls": ["http://x"]}]'}},
            "ice_servers.0.urls: ICE server URL must start with stun:, stuns:, turn: or turns:",
        ),
    ],
)
def test_errors_are_one_line_naming_the_key(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(**kwargs)  # type: ignore[arg-type]
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(message)


def test_unknown_toml_key_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^portt: unknown setting$"):
        load(file=write(tmp_path, "portt = 1\n"), env=SECRET)
    with pytest.raises(ConfigError, match=r"invalid TOML"):
        load(file=write(tmp_path, "port = \n"), env=SECRET)
    with pytest.raises(ConfigError, match=r"not found"):
        load(file=tmp_path / "missing.toml", env=SECRET)


def test_demo_generates_a_secret_each_start() -> None:
    first, second = load(env={}), load(env={})
    assert first.demo and len(first.secret_value()) >= 32
    assert first.secret_value() != second.secret_value()


def test_base_url() -> None:
    wildcard = {**SECRET, "PAVILION_HOST": "0.0.0.0", "PAVILION_DEMO": "false"}
    assert load(env=wildcard).base_url == "http://127.0.0.1:8080"
    public = load(env={**SECRET, "PAVILION_PUBLIC_URL": "https://expo.example/"})
    assert public.base_url == "https://expo.example"


def test_default_node_ids_differ_for_two_nodes_on_one_host() -> None:
    """Issue 13: both used to be the host name, and each node then dropped the other's bus
    messages (kick, mute) as its own echo. Host name and port: unique on one host, stable
    across restarts; a node on an ephemeral port gets a random suffix instead."""
    host = socket.gethostname()
    first, second = load(env=SECRET), load(env={**SECRET, "PAVILION_PORT": "8081"})
    assert (first.node_id, second.node_id) == (f"{host}-8080", f"{host}-8081")
    ephemeral = {load(env={**SECRET, "PAVILION_PORT": "0"}).node_id for _ in range(3)}
    assert len(ephemeral) == 3 and all(n.startswith(f"{host}-") for n in ephemeral)
    assert load(env={**SECRET, "PAVILION_NODE_ID": "hall-a"}).node_id == "hall-a"


def test_cluster_settings_from_env_and_bad_node_id() -> None:
    settings = load(env={**SECRET, "PAVILION_CLUSTER__MAX_LOAD": "0.5",
                         "PAVILION_CLUSTER__DRAIN_S": "5"})
    assert (settings.cluster.max_load, settings.cluster.drain_s) == (0.5, 5.0)
    assert settings.cluster.report_interval_s == 2.0
    with pytest.raises(ConfigError, match=r"^node_id: String should match pattern"):
        load(env={**SECRET, "PAVILION_NODE_ID": "hall a"})


TURN_SECRET = "t" * 32


def test_turn_section_from_file_and_env(tmp_path: Path) -> None:
    path = write(tmp_path, f'[turn]\nurls = ["turn:turn.expo.example:3478"]\n'
                           f'shared_secret = "{TURN_SECRET}"\nttl_s = 3600\n')
    turn = load(file=path, env=SECRET).turn
    assert turn is not None and turn.urls == ["turn:turn.expo.example:3478"]
    assert (turn.shared_secret.get_secret_value(), turn.ttl_s) == (TURN_SECRET, 3600)
    env = {**SECRET, "PAVILION_TURN__URLS": '["turns:turn.expo.example:5349"]',
           "PAVILION_TURN__SHARED_SECRET": TURN_SECRET}
    from_env = load(env=env).turn
    assert from_env is not None and from_env.urls == ["turns:turn.expo.example:5349"]
    assert from_env.ttl_s == 86_400
    assert TURN_SECRET not in repr(load(env=env))  # never printed with the settings
    assert load(env=SECRET).turn is None


@pytest.mark.parametrize(("turn", "message"), [
    ({"urls": ["stun:x:3478"], "shared_secret": TURN_SECRET},
     "turn.urls: TURN server URL must start with turn: or turns: ('stun:x:3478') "
     "(got ['stun:x:3478'])"),
    ({"urls": ["turn:x"], "shared_secret": "short-but-secret"},
     "turn.shared_secret: must be at least 32 bytes (got ***)"),
    ({"urls": ["turn:x"]}, "turn.shared_secret: Field required"),
    ({"urls": ["turn:x"], "shared_secret": TURN_SECRET, "ttl_s": 5},
     "turn.ttl_s: Input should be greater than or equal to 60 (got 5)"),
])
def test_turn_errors_are_one_line_and_hide_the_secret(turn: dict[str, object],
                                                      message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(env=SECRET, overrides={"turn": turn})
    assert str(caught.value) == message
    assert "short-but-secret" not in str(caught.value)


def test_one_udp_port_settings_from_env() -> None:
    assert (load(env=SECRET).media.udp_port, load(env=SECRET).media.announce_ip) == (0, "")
    media = load(env={**SECRET, "PAVILION_MEDIA__UDP_PORT": "7882",
                      "PAVILION_MEDIA__ANNOUNCE_IP": "[2001:db8::5]"}).media
    assert (media.udp_port, media.announce_ip) == (7882, "2001:db8::5")


def test_ice_tcp_settings_from_env() -> None:
    assert load(env=SECRET).media.tcp_port == 0  # off unless asked: a port to open
    media = load(env={**SECRET, "PAVILION_MEDIA__UDP_PORT": "7882",
                      "PAVILION_MEDIA__TCP_PORT": "7882"}).media
    assert (media.udp_port, media.tcp_port, media.udp_candidates) == (7882, 7882, True)
