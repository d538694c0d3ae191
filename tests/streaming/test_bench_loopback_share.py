"""bench/loopback_share.py reads ``net_rx_action``'s share from ``perf report --children``
(the part of the fan-out's cost that loopback's delivery to the receivers adds), and says why
it cannot run where ``perf`` is missing."""

from __future__ import annotations

import pytest

from bench import loopback_share
from bench.loopback_share import available, share_of

REPORT = """\
# Samples: 15K of event 'cpu-clock:ppp'
#
# Children      Self  Symbol                                        IPC   [IPC Coverage]
# ........  ........  ............................................  ....................
#
    18.10%     0.08%  [k] __sys_sendmmsg                            -      -
            |
             --18.02%--__sys_sendmmsg
                       net_rx_action
    10.84%     0.48%  [k] handle_softirqs                           -      -
     7.12%     0.37%  [k] net_rx_action                             -      -
     4.23%     0.25%  [.] fastsend_fanout                           -      -
"""


def test_the_receive_path_share_is_read_from_its_own_line_not_a_call_graph() -> None:
    assert share_of(REPORT) == pytest.approx(0.0712)
    assert share_of(REPORT, "__sys_sendmmsg") == pytest.approx(0.181)
    assert share_of(REPORT, "fastsend_fanout") == pytest.approx(0.0423)
    assert share_of("# no samples\n") == 0.0


def test_without_perf_it_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loopback_share.shutil, "which", lambda name: None)
    assert "perf is not installed" in available()
