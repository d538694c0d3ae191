"""The fan-out benchmark against the code of an earlier commit, on this machine, in one run.

    .venv/bin/python -m bench.fanout_vs_rev [--rev 9fd0dcf] [--sizes 100,200,400]
        [--seconds 8] [--rounds 2] [--systems pavilion-1port,pavilion-python]

Issue 19 set its goal against "today ~15 µs per delivered packet", a figure of the code of the
day on the machine of the day; machines differ by 2x from one session to the next, so the goal
is a ratio to that code measured here. ``pavilion-python`` in bench/fanout.py is today's node
with the send path of before the issue (per-peer ports, the loop in Python, libsrtp): it shares
every later change (settled viewers, the numbers in C, ...). This runs the *commit itself*: a
``git worktree`` of ``--rev`` (default: the last commit before issue 19 landed), its own
``bench.fanout`` with ``--rev-systems``, then this checkout's ``bench.fanout`` with ``--systems``,
alternating ``--rounds`` times so that both see the same machine, and prints the median µs of
server CPU per delivered packet of each, with the ratio to the commit's. The worktree is removed
at the end. Each child's output is echoed as it runs (joins take a while at 400 viewers).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BEFORE_ISSUE_19 = "9fd0dcf"  # "Tests robust under a loaded CI": main just before 9ad3fd4
ROOT = Path(__file__).resolve().parent.parent
# a result row of bench.fanout, then and now: "<system> <viewers> <cpu s/s> <µs/packet> ..."
_ROW = re.compile(r"^(?P<system>[a-z][\w-]*)\s+(?P<viewers>\d+)\s+(?P<cpu>[\d.]+)\s+"
                  r"(?P<us>[\d.]+)\s+[\d.]+%")


@dataclass(frozen=True)
class Run:
    """One bench.fanout run: µs per delivered packet by (system, viewers)."""

    label: str  # "rev" or "here"
    figures: dict[tuple[str, int], float]


def parse_rows(text: str) -> dict[tuple[str, int], float]:
    """The per-window rows of a bench.fanout output (the summary table after them differs
    between versions and is not read)."""
    figures: dict[tuple[str, int], float] = {}
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            key = (match["system"], int(match["viewers"]))
            figures[key] = float(match["us"])
    return figures


def summary(runs: list[Run], rev: str) -> str:
    """Median µs per delivered packet over the rounds, each system of this checkout against
    each of the commit's, per number of viewers (every round's figure in brackets)."""
    theirs = _medians([r for r in runs if r.label == "rev"])
    ours = _medians([r for r in runs if r.label == "here"])
    lines = [f"{'system':30} {'viewers':>7} {'µs/pkt':>8} {'ratio':>7}  rounds"]
    for (system, viewers), (median, each) in sorted(theirs.items(), key=lambda kv: kv[0][1]):
        lines.append(f"{system + ' @ ' + rev:30} {viewers:7d} {median:8.2f} {'1.000':>7}  {each}")
        for (mine, n), (value, rounds) in sorted(ours.items()):
            if n == viewers:
                lines.append(f"{mine:30} {n:7d} {value:8.2f} {value / median:7.3f}  {rounds}")
    return "\n".join(lines)


def _medians(runs: list[Run]) -> dict[tuple[str, int], tuple[float, list[float]]]:
    values: dict[tuple[str, int], list[float]] = {}
    for run in runs:
        for key, value in run.figures.items():
            values.setdefault(key, []).append(value)
    return {key: (statistics.median(v), v) for key, v in values.items()}


@contextlib.contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """A detached checkout of ``rev`` in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="pavilion-rev-") as parent:
        path = Path(parent) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(path),
                        rev], check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                           check=False)


def bench(cwd: Path, args: list[str], label: str) -> Run:
    """``python -m bench.fanout args`` in ``cwd`` (its own code first on the path), echoed."""
    command = [sys.executable, "-m", "bench.fanout", *args]
    print(f"[{label}] {' '.join(command[1:])} (in {cwd})", flush=True)
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as child:
        assert child.stdout is not None
        out = []
        for line in child.stdout:
            out.append(line)
            print(f"[{label}] {line}", end="", flush=True)
    if child.returncode != 0:
        raise SystemExit(f"[{label}] bench.fanout exited {child.returncode}")
    return Run(label, parse_rows("".join(out)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default=BEFORE_ISSUE_19)
    parser.add_argument("--sizes", default="100,200,400")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--systems", default="pavilion-1port,pavilion-python")
    parser.add_argument("--rev-systems", default="pavilion",
                        help="the commit's bench.fanout --systems (before issue 19: pavilion)")
    parser.add_argument("--audited", type=int, default=60,
                        help="this checkout's --audited (the commit's bench may not have it)")
    args = parser.parse_args()
    common = ["--sizes", args.sizes, "--seconds", str(args.seconds)]
    runs: list[Run] = []
    with worktree(args.rev) as tree:
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_}/{args.rounds}", flush=True)
            runs.append(bench(tree, [*common, "--systems", args.rev_systems], "rev"))
            runs.append(bench(ROOT, [*common, "--audited", str(args.audited),
                                     "--systems", args.systems], "here"))
    print()
    print(summary(runs, args.rev))


if __name__ == "__main__":
    main()
