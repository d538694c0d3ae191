"""bench/fanout_vs_rev.py reads bench.fanout's rows of then and now and sets each system of this
checkout against the earlier commit's, by median over the rounds."""

from __future__ import annotations

from bench.fanout_vs_rev import Run, parse_rows, summary

THEN = """\
system    viewers  cpu s/s  µs/packet   frames  packets  checked
pavilion    200    0.335       10.5   100.0%   100.0%   100.0%   client 0.27 s/s; viewers 200
pavilion    400    0.618       12.2    42.1%   100.0%   100.0%   client 0.42 s/s; viewers 400

viewers  pavilion µs/pkt  mediarelay µs/pkt  pavilion/mediarelay
    200             10.5       (saturated)                    -
"""
NOW = """\
pavilion-1port: 200 viewers joined
pavilion-1port   200    0.177        5.5   100.0%   100.0%   100.0%   idle 0.36 ms/s a viewer
pavilion-1port   400    0.307        4.8   100.0%   100.0%   100.0%   idle 0.29 ms/s a viewer

system                 viewers  µs/pkt viewers/core   vs before  vs relay idle ms/s/viewer  µs/copy
pavilion-1port             200     5.5         1063       0.577         -             0.36      3.3
"""


def test_rows_of_either_version_are_read_and_the_summary_tables_are_not() -> None:
    assert parse_rows(THEN) == {("pavilion", 200): 10.5, ("pavilion", 400): 12.2}
    assert parse_rows(NOW) == {("pavilion-1port", 200): 5.5, ("pavilion-1port", 400): 4.8}


def test_the_summary_is_the_median_over_rounds_against_the_commits() -> None:
    runs = [
        Run("rev", {("pavilion", 400): 12.0}), Run("here", {("pavilion-1port", 400): 6.0}),
        Run("rev", {("pavilion", 400): 10.0}), Run("here", {("pavilion-1port", 400): 5.0}),
        Run("rev", {("pavilion", 400): 11.0}), Run("here", {("pavilion-1port", 400): 7.0}),
    ]
    lines = summary(runs, "abc1234").splitlines()
    assert lines[1].split()[:5] == ["pavilion", "@", "abc1234", "400", "11.00"]
    assert lines[2].split()[:4] == ["pavilion-1port", "400", "6.00", "0.545"]
    assert "[6.0, 5.0, 7.0]" in lines[2]
