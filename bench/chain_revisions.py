"""Benchmark: bench/chain.py for two revisions of Orchestra, alternating, in the same run.

Answers "did this change make the durable chain slower?" on a noisy machine: each round runs the chain of one
revision, then of the other, each against its own bare httpx baseline (bench/chain.py prints both), so what
is compared is the Orchestra/httpx ratio of each revision, round by round, and the CPU time per step each
spends beyond the bare loop (its process and its PostgreSQL server), which the machine's load moves less.
The other revision is checked out into a temporary git worktree and imported from there with this
environment's dependencies; the bench script itself is this tree's bench/chain.py for both (the same
measurement of two libraries).

    python bench/chain_revisions.py --before REV [--after REV] [--steps 500] [--rounds 3]

Without --after, the working tree is the "after" side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def checkout(revision: str | None) -> Iterator[Path]:
    """A source tree of ``revision`` (the working tree when None), removed afterwards."""
    if revision is None:
        yield ROOT
        return
    with tempfile.TemporaryDirectory(prefix="orchestra-rev-") as parent:
        tree = Path(parent) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), revision], check=True
        )
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


def figures(tree: Path, steps: int) -> dict[str, float]:
    """One round of bench/chain.py importing ``tree``'s sources: its key=value figures."""
    environment = {**os.environ, "PYTHONPATH": str(tree / "src")}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chain.py"), "--steps", str(steps), "--rounds", "1"],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"bench/chain.py of {tree} failed:\n{completed.stderr[-2000:]}")
    last = completed.stdout.strip().splitlines()[-1]
    return {key: float(value) for key, value in (pair.split("=", 1) for pair in last.split())}


def main(before: str, after: str | None, steps: int, rounds: int) -> None:
    ratios: dict[str, list[float]] = {"before": [], "after": []}
    overheads: dict[str, list[float]] = {"before": [], "after": []}
    cpu_overheads: dict[str, list[float]] = {"before": [], "after": []}
    database_cpu: dict[str, list[float]] = {"before": [], "after": []}
    with checkout(before) as before_tree, checkout(after) as after_tree:
        for round_number in range(rounds):
            order = [("before", before_tree), ("after", after_tree)]
            for side, tree in order if round_number % 2 == 0 else reversed(order):
                measured = figures(tree, steps)
                ratios[side].append(measured["ratio"])
                overheads[side].append(measured["overhead_ms_per_step"])
                cpu_overheads[side].append(measured["cpu_overhead_ms_per_step"])
                database_cpu[side].append(measured["database_cpu_ms_per_step"])
                print(
                    f"round {round_number + 1} {side}: ratio {measured['ratio']:.2f}, "
                    f"overhead {measured['overhead_ms_per_step']:.3f} ms/step, "
                    f"CPU overhead {measured['cpu_overhead_ms_per_step']:.3f} ms/step "
                    f"(PostgreSQL {measured['database_cpu_ms_per_step']:.3f})",
                    flush=True,
                )
    before_ratio, after_ratio = statistics.median(ratios["before"]), statistics.median(ratios["after"])
    before_cpu = statistics.median(cpu_overheads["before"])
    after_cpu = statistics.median(cpu_overheads["after"])
    print(
        f"steps={steps} rounds={rounds} before_ratio={before_ratio:.2f} after_ratio={after_ratio:.2f} "
        f"after_vs_before={after_ratio / before_ratio:.3f} "
        f"before_overhead_ms={statistics.median(overheads['before']):.3f} "
        f"after_overhead_ms={statistics.median(overheads['after']):.3f} "
        f"before_cpu_overhead_ms={before_cpu:.3f} after_cpu_overhead_ms={after_cpu:.3f} "
        f"cpu_after_vs_before={after_cpu / before_cpu:.3f} "
        f"before_database_cpu_ms={statistics.median(database_cpu['before']):.3f} "
        f"after_database_cpu_ms={statistics.median(database_cpu['after']):.3f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--before", required=True, help="a git revision (e.g. a commit before the change)")
    parser.add_argument("--after", default=None, help="a git revision (default: the working tree)")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    main(arguments.before, arguments.after, arguments.steps, arguments.rounds)
