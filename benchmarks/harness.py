"""Benchmark harness: every figure is a ratio against a baseline run alongside it.

Each case runs in a fresh child process (so its peak RSS is its own), baseline and
candidate alternate for ``--repeat`` rounds, and the median of each is compared. Machines
are noisy; alternating in one process group keeps the ratio honest.

    python -m benchmarks.harness packet --rows 1000000

Cases live in ``benchmarks/cases_*.py`` as functions registered with :func:`case`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CASES: dict[str, Callable[..., Any]] = {}
SUITES = ("packet", "tdtql", "sqlite", "postgres", "processors", "xlsx", "pipeline", "brokers")


def case(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        CASES[name] = fn
        return fn

    return register


def _peak_mb() -> float:
    """This process's own peak RSS. ``ru_maxrss`` would not do: Linux keeps it across
    ``exec``, so a child would report the harness's own size at the fork that started
    it (after ``prepare`` has built a million rows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(suite: str, name: str, workdir: str, rows: int) -> None:
    importlib.import_module(f"benchmarks.cases_{suite}")
    # Cases register with the importable module, not with this one run as __main__.
    fn = importlib.import_module("benchmarks.harness").CASES[name]
    start = time.perf_counter()
    detail = fn(Path(workdir), rows)
    seconds = time.perf_counter() - start
    # Worker processes and tools the case ran (sqlite3, psql): the largest of them.
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb(), "children_peak_mb":
                      children_mb, "detail": detail}))


def measure(suite: str, name: str, workdir: Path, rows: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.harness", "--child", suite, name, str(workdir),
         str(rows)],
        capture_output=True, text=True,
    )
    if out.returncode != 0:  # say why, not only that it failed
        raise RuntimeError(f"case {name} exited {out.returncode}:\n{out.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def compare(
    suite: str, candidate: str, baseline: str, workdir: Path, rows: int, repeat: int
) -> dict[str, Any]:
    cand: list[dict[str, Any]] = []
    base: list[dict[str, Any]] = []
    for _ in range(repeat):
        base.append(measure(suite, baseline, workdir, rows))
        cand.append(measure(suite, candidate, workdir, rows))
    c = statistics.median(r["seconds"] for r in cand)
    b = statistics.median(r["seconds"] for r in base)
    return {
        "candidate": candidate, "baseline": baseline, "rows": rows,
        "candidate_s": round(c, 3), "baseline_s": round(b, 3), "ratio": round(c / b, 2),
        "candidate_peak_mb": round(max(r["peak_mb"] for r in cand), 1),
        "baseline_peak_mb": round(max(r["peak_mb"] for r in base), 1),
        "candidate_children_peak_mb": round(max(r["children_peak_mb"] for r in cand), 1),
        "baseline_children_peak_mb": round(max(r["children_peak_mb"] for r in base), 1),
        # What each run's case returned (e.g. a listener's own peak), for --json.
        "candidate_details": [r["detail"] for r in cand],
        "baseline_details": [r["detail"] for r in base],
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("suite", choices=SUITES)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    module = importlib.import_module(f"benchmarks.cases_{args.suite}")
    with tempfile.TemporaryDirectory(prefix="tdtp-bench-") as tmp:
        workdir = Path(tmp)
        module.prepare(workdir, args.rows)
        results = [compare(args.suite, c, b, workdir, args.rows, args.repeat)
                   for c, b in module.PAIRS]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("| candidate | baseline | rows | candidate s | baseline s | ratio | peak MB "
          "| children peak MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['candidate']} | {r['baseline']} | {r['rows']:,} | {r['candidate_s']} | "
              f"{r['baseline_s']} | {r['ratio']}× | {r['candidate_peak_mb']} | "
              f"{r['candidate_children_peak_mb']} |")


if __name__ == "__main__":
    main()
