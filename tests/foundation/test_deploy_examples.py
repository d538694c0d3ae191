"""The example deployment under deploy/ (docs/deploy.md) is valid and consistent: the TOML loads
through our config loader with the secrets file's keys; the systemd units pass
``systemd-analyze verify``; the nginx site passes ``nginx -t``; coturn runs the TURN config,
accepts a credential Pavilion mints and relays only to Pavilion nodes; redis-server runs the
Redis config with the append-only file on. Where a tool is absent a structural check stands in
(scripts/test.sh installs nginx and coturn; systemd-analyze comes with systemd)."""

from __future__ import annotations

import asyncio
import configparser
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from aioice.stun import TransactionFailed
from aioice.turn import TurnClientUdpProtocol

from config import ConfigError, Settings, load
from signaling import turn
from tests.fixtures.ports import free_port
from tests.fixtures.turn_server import running_turnserver
from web import workers

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TOML, ENV = DEPLOY / "pavilion.toml", DEPLOY / "pavilion.env"
PAVILION_UNIT, COTURN_UNIT = DEPLOY / "systemd/pavilion.service", DEPLOY / "systemd/coturn.service"
NGINX_SITE, COTURN_CONF = DEPLOY / "nginx/pavilion.conf", DEPLOY / "coturn/turnserver.conf"
REDIS_CONF = DEPLOY / "redis/redis.conf"


def env_keys() -> list[str]:
    lines = [line for line in ENV.read_text().splitlines() if line and not line.startswith("#")]
    return [line.split("=", 1)[0] for line in lines]


def loaded() -> Settings:
    """The example TOML with a fresh random value for each key of the example secrets file."""
    return load(file=TOML, env={key: secrets.token_urlsafe(48) for key in env_keys()})


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def exec_start(path: Path) -> list[str]:
    return shlex.split(unit(path)["Service"]["ExecStart"])


def workers_of_unit() -> int:
    argv = exec_start(PAVILION_UNIT)
    return int(argv[argv.index("--workers") + 1])


# -- pavilion.toml and pavilion.env -------------------------------------------------------------

def test_the_toml_loads_through_the_config_loader_with_the_env_file_secrets() -> None:
    assert env_keys() == ["PAVILION_SECRET", "PAVILION_API_KEY", "PAVILION_TURN__SHARED_SECRET"]
    settings = loaded()
    assert not settings.demo and settings.redis_url is not None
    assert settings.turn is not None and settings.turn.urls[0].startswith("turn:")
    assert not settings.media.allow_loopback_candidates
    assert not settings.media.allow_private_candidates
    assert settings.media.udp_port and settings.media.announce_ip  # one UDP port per node
    assert settings.media.tcp_port == settings.media.udp_port  # ICE-TCP on the same number
    workers.check(settings, workers_of_unit())  # what `serve --workers N` refuses, it accepts


def test_the_toml_alone_is_refused_in_one_line_for_want_of_the_secrets() -> None:
    with pytest.raises(ConfigError) as caught:
        load(file=TOML, env={key: "" for key in env_keys()})
    assert "\n" not in str(caught.value) and "32 bytes" in str(caught.value)
    with pytest.raises(ConfigError, match=r"^turn\.shared_secret: Field required$"):
        load(file=TOML, env={})


# -- systemd units ------------------------------------------------------------------------------

def test_the_pavilion_unit_runs_the_workers_with_the_example_config() -> None:
    settings = loaded()
    service = unit(PAVILION_UNIT)["Service"]
    argv = exec_start(PAVILION_UNIT)
    assert argv[1:3] == ["serve", "--workers"] and workers_of_unit() >= 2
    assert argv[argv.index("--config") + 1] == "/etc/pavilion/pavilion.toml"
    assert service["EnvironmentFile"] == "/etc/pavilion/pavilion.env"
    assert service["KillSignal"] == "SIGTERM" and service["KillMode"] == "mixed"
    assert service["RestartPreventExitStatus"] == "2"  # a configuration error stays down
    # the drain, then at most 10 s of shutdown, must fit before systemd sends SIGKILL
    assert int(service["TimeoutStopSec"]) >= settings.cluster.drain_s + 10


def test_the_coturn_unit_reads_the_example_config() -> None:
    service = unit(COTURN_UNIT)["Service"]
    assert exec_start(COTURN_UNIT)[:3] == ["/usr/bin/turnserver", "-c", "/etc/turnserver.conf"]
    assert service["User"] == "turnserver" and service["Type"] == "notify"


@pytest.mark.parametrize("path", [PAVILION_UNIT, COTURN_UNIT], ids=lambda p: p.name)
def test_units_pass_systemd_analyze_verify(path: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # the structural checks above still ran
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    # verify checks that ExecStart's program exists: point it at one that does, keep the rest
    program = exec_start(path)[0]
    text = path.read_text().replace(f"ExecStart={program}", f"ExecStart={shutil.which('true')}")
    copy = tmp_path / path.name
    copy.write_text(text)
    done = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                          timeout=60, check=False)
    complaints = [line for line in (done.stdout + done.stderr).splitlines()
                  if copy.name in line or "Unknown" in line or "Failed" in line]
    assert done.returncode == 0 and not complaints, done.stdout + done.stderr


# -- nginx --------------------------------------------------------------------------------------

def _locations(site: str) -> dict[str, str]:
    """Each ``location`` block's text by its pattern (blocks do not nest in this site)."""
    return {m.group(1).strip(): m.group(2)
            for m in re.finditer(r"location\s+([^{]+)\{([^}]*)\}", site)}


def test_the_nginx_site_forwards_websockets_whip_and_the_client_address() -> None:
    site = NGINX_SITE.read_text()
    assert site.count("{") == site.count("}")
    locations = _locations(site)
    socket_io = locations["/socket.io/"]
    assert "proxy_set_header Upgrade $http_upgrade" in socket_io
    assert "proxy_set_header Connection $connection_upgrade" in socket_io
    assert "proxy_read_timeout 3600s" in socket_io
    assert "proxy_pass" in locations["~ ^/(whip|whep)/"]
    for header in ("X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme",
                   "X-Forwarded-Host $host"):
        assert f"proxy_set_header {header}" in site
    # every node's public_url name leads to that node's port
    settings = loaded()
    for i in range(workers_of_unit()):
        name = settings.public_url.format(worker=i).removeprefix("https://")  # type: ignore[union-attr]
        assert re.search(rf"\b{re.escape(name)}\s+127\.0\.0\.1:{settings.port + i};", site), name
        assert f"server 127.0.0.1:{settings.port + i} " in site


def test_the_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    openssl = shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip("nginx or openssl is not installed (scripts/test.sh installs nginx-light)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=live.expo.example", "-keyout", str(key), "-out", str(cert)],
                   capture_output=True, timeout=60, check=True)
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", NGINX_SITE.read_text())
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
                    f"events {{}}\nhttp {{\n    include {tmp_path}/site.conf;\n}}\n")
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(main),
                           "-e", str(tmp_path / "error.log")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


# -- coturn -------------------------------------------------------------------------------------

def coturn_options() -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    for line in COTURN_CONF.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            options.setdefault(name.strip(), []).append(value.strip())
    return options


def test_the_coturn_config_uses_the_shared_secret_and_refuses_loopback_peers() -> None:
    options = coturn_options()
    assert "use-auth-secret" in options and len(options["static-auth-secret"][0]) >= 32
    assert "allow-loopback-peers" not in options and "no-multicast-peers" in options
    assert options["denied-peer-ip"][0] == "0.0.0.0-255.255.255.255"
    assert options["allowed-peer-ip"] == ["10.0.0.10-10.0.0.13"]
    assert "no-cli" in options and "lt-cred-mech" not in options


def _runnable_here(port: int) -> str:
    """The example with its machine-specific lines (addresses, certificates, log) swapped for
    loopback ones; every line about credentials and peers kept as it is."""
    dropped = ("listening-ip", "listening-port", "tls-listening-port", "cert", "pkey",
               "log-file", "external-ip")
    lines = [line for line in COTURN_CONF.read_text().splitlines()
             if line.partition("=")[0].strip() not in dropped]
    return "\n".join([*lines, f"listening-port={port}", "listening-ip=127.0.0.1",
                      "relay-ip=127.0.0.1", "no-tls", "no-dtls", "no-tcp"])


async def _bind(client: TurnClientUdpProtocol, channel: int, peer: tuple[str, int]) -> str:
    """Ask for a channel to ``peer`` (it installs a permission): "ok" or coturn's refusal."""
    try:
        await client.channel_bind(0x4000 + channel, peer)
    except TransactionFailed as exc:
        return str(exc)
    return "ok"


async def test_coturn_runs_the_example_and_relays_only_to_pavilion_nodes(tmp_path: Path) -> None:
    secret = coturn_options()["static-auth-secret"][0]
    cred = turn.mint(secret, "visitor-1", now=time.time(), ttl_s=600)
    with running_turnserver(_runnable_here, tmp_path) as (port, _):
        loop = asyncio.get_running_loop()
        transport, client = await loop.create_datagram_endpoint(
            lambda: TurnClientUdpProtocol(("127.0.0.1", port), username=cred.username,
                                          password=cred.credential, lifetime=600,
                                          channel_refresh_time=300),
            remote_addr=("127.0.0.1", port))
        try:
            relayed = await asyncio.wait_for(client.connect(), 10)
            assert relayed[0] == "127.0.0.1"
            assert await _bind(client, 0, ("10.0.0.11", 40000)) == "ok"  # a Pavilion node
            refused = [("127.0.0.1", 6379), ("10.0.0.5", 6379), ("192.0.2.7", 40000)]
            for channel, peer in enumerate(refused, start=1):  # Redis, anything else
                assert "403" in await _bind(client, channel, peer), peer
        finally:
            transport.close()


# -- Redis --------------------------------------------------------------------------------------

def _config_get(port: int, name: bytes) -> bytes:
    """``CONFIG GET name`` over plain RESP, once the server answers (no client library)."""
    request = b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(name), name)
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(request)
                reply = b""
                while reply.count(b"\r\n") < 5:
                    reply += sock.recv(4096)
            return reply.split(b"\r\n")[4]  # *2 $n name $n value
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_redis_runs_the_example_with_the_append_only_file(tmp_path: Path) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)", pytrace=False)
    port = free_port()
    proc = subprocess.Popen([binary, str(REDIS_CONF), "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", str(tmp_path), "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        for name, value in ((b"appendonly", b"yes"), (b"appendfsync", b"everysec"),
                            (b"maxmemory-policy", b"noeviction")):
            assert _config_get(port, name) == value, name
    finally:
        proc.terminate()
        proc.wait(10)
