"""Shared fixtures: real redis-server, real Chromium, a running Pavilion (see tests/fixtures/)."""

pytest_plugins = [
    "tests.fixtures.log_scan",  # every log line of the run, searched for the tests' secrets
    "tests.fixtures.redis_server",
    "tests.fixtures.turn_server",
    "tests.fixtures.redis_sentinel",
    "tests.fixtures.browser",
    "tests.fixtures.pavilion",
    "tests.fixtures.netns",
    "tests.fixtures.leftovers",  # a failed test's leaked sockets are reported with it
]
