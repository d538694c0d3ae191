"""The Grafana dashboard and the Prometheus alert rules in deploy/ (issue 18 §4): the rules pass
``promtool check rules`` and their unit tests (``promtool test rules``), every dashboard query
is valid PromQL, and every metric name either file uses is in the scrape of a real node that
has a publisher, a viewer, Socket.IO clients, HTTP and garbage collection behind it."""

from __future__ import annotations

import gc
import json
import re
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rooms.room import RoomKind
from tests.fixtures.ports import free_port, free_udp_port
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, make_room, token
from tests.streaming.clients import publish, until, watch
from web.media import MEDIA_KEY

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus/pavilion-rules.yml"
RULE_TESTS = DEPLOY / "prometheus/pavilion-rules.test.yml"
DASHBOARD = DEPLOY / "grafana/pavilion-dashboard.json"
PROMETHEUS_OWN = {"up"}  # made by Prometheus for every target, not by the node
# PromQL words that look like names: aggregations, keywords, and label-list clauses
KEYWORDS = {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk",
            "quantile", "count_values", "group", "by", "without", "on", "ignoring",
            "group_left", "group_right", "and", "or", "unless", "offset", "bool", "inf", "nan"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_OFFSET = re.compile(r"\boffset\s+-?(?:\d+[a-z]+)+")
_NUMBER = re.compile(r"(?<![A-Za-z_:])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (not functions, keywords or labels)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)  # {instance=~"$instance"}: labels, not names
    text = _RANGE.sub(" ", text)  # [5m], [$__rate_interval]
    text = _LABEL_LIST.sub(" ", text)  # by (instance, le)
    text = _OFFSET.sub(" ", text)  # offset 5m
    text = _NUMBER.sub(" ", text)  # 0.99, 5e9: "e9" is no name
    names = set()
    for match in _NAME.finditer(text):
        after = text[match.end():].lstrip()
        if after.startswith("(") or match.group() in KEYWORDS:
            continue  # rate(, histogram_quantile(, sum by ...
        names.add(match.group())
    return names


def rule_exprs() -> list[str]:
    """Each rule's ``expr:`` (one line each in this file; ``promtool check rules`` reads the
    whole YAML, and counts them too)."""
    return [m.group(1) for m in re.finditer(r"^\s+expr:\s*(.+)$", RULES.read_text(), re.M)]


def dashboard_exprs() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"].removeprefix("label_values(").split(",")[0]
              for v in board["templating"]["list"] if v["type"] == "query"]
    return exprs


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is not installed (apt-get install prometheus)", pytrace=False)
    return found


def test_metric_names_are_parsed_out_of_promql() -> None:
    assert metric_names(
        'histogram_quantile(0.99, sum by (instance, le) (rate(pavilion_gc_pause_seconds_bucket'
        '{instance=~"$instance", generation="2"}[$__rate_interval]))) > 5e9') == {
        "pavilion_gc_pause_seconds_bucket"}
    assert metric_names('pavilion_media_viewers_lossy / clamp_min(pavilion_media_viewers, 1) '
                        '> 0.2 and on(instance) up{job="pavilion"} == 1') == {
        "pavilion_media_viewers_lossy", "pavilion_media_viewers", "up"}
    assert metric_names("8 * sum without (route) (rate(a_total[1m] offset 5m))") == {"a_total"}


def test_rules_pass_promtool_check_and_their_unit_tests() -> None:
    promtool = _promtool()
    check = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"{len(rule_exprs())} rules found" in check.stdout  # the test reads every rule
    tested = subprocess.run([promtool, "test", "rules", RULE_TESTS.name], cwd=RULE_TESTS.parent,
                            capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Each panel query as a recording rule (Grafana's variables given values), checked by
    promtool: a typo in a dashboard is caught here, not in front of the on-call person."""
    board = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) and board["uid"] and board["title"]
    panels = [p for p in board["panels"] if p["type"] != "row"]
    assert all(p["targets"] and p["datasource"]["uid"] == "${datasource}" for p in panels)
    exprs = [e.replace("$__rate_interval", "1m").replace("$instance", ".*")
             for e in dashboard_exprs()]
    rules = "".join(f"      - record: pavilion:check:{n}\n        expr: {json.dumps(e)}\n"
                    for n, e in enumerate(exprs))  # a JSON string is a YAML string
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(f"groups:\n  - name: dashboard\n    rules:\n{rules}")
    check = subprocess.run([_promtool(), "check", "rules", str(path)], capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0 and f"{len(exprs)} rules found" in check.stdout, (
        check.stdout + check.stderr)


async def _scraped_names(url: str) -> set[str]:
    async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as response:
        text = await response.text()
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


async def test_every_metric_the_dashboard_and_rules_use_is_scraped(pavilion_app) -> None:
    # a webhook target (nothing listens: the webhook families exist from the start) and the one
    # UDP port mode with ICE-TCP (the pavilion_media_udp_mux* and tcp_mux* families exist only
    # in that mode)
    media = {"udp_port": free_udp_port(), "tcp_port": free_port()}
    node = await pavilion_app(demo=False, media=media, webhooks=[
        {"url": f"http://127.0.0.1:{free_port()}/hook", "secret": "monitoring-hook-secret-01"}])
    plane = node.app[MEDIA_KEY]
    publisher = await publish(plane, "hall")
    viewer = await watch(plane, "hall", "v1")
    await until(lambda: viewer.count("video") >= 30)
    await make_room(node, "talk", RoomKind.BROADCAST, exhibitor="host")
    host = await RtcClient.connect(node, token("host", "talk", HOST))
    guest = await RtcClient.connect(node, token("guest", "talk", VIEWER))
    await host.ok("join", {"room": "talk"})
    await guest.ok("join", {"room": "talk"})
    await host.ok("chat.send", {"room": "talk", "text": "hello"})
    await guest.wait_for("chat.message")
    async with aiohttp.ClientSession() as http, http.get(node.url + "/healthz"):
        pass
    gc.collect()
    scraped = await _scraped_names(node.url) | PROMETHEUS_OWN
    used = {name for expr in [*rule_exprs(), *dashboard_exprs()] for name in metric_names(expr)}
    assert len(used) >= 30, used  # the parser found the queries' names
    assert not used - scraped, f"used in deploy/ but not in /metrics: {sorted(used - scraped)}"
    for client in (guest, host):
        await client.close()
    await viewer.close()
    await publisher.close()
