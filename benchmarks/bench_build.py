"""Benchmark: wall time and peak memory of a whole `reportgen build` process by data size.

For each size the demo data is generated once (outside the timing), then the
weekly leadership report (PDF + PPTX) is built ``--runs`` times as a separate
process; we report the median wall time and the peak RSS (``ru_maxrss`` of
that process, from ``os.wait4``). Results print as a Markdown table for the
README and are written to ``benchmarks/results.json``.

    python benchmarks/bench_build.py                 # 1M and 10M rows, 5 runs each
    python benchmarks/bench_build.py --sizes 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "configs" / "reports" / "weekly_leadership.yaml"


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Run a command; return (wall seconds, peak RSS in MB) of that process alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(
            f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return wall, usage.ru_maxrss // 1024


def project_copy(data_dir: Path, workdir: Path) -> Path:
    """Configs and templates pointing at the benchmark's data folder."""
    shutil.copytree(ROOT / "configs", workdir / "configs", dirs_exist_ok=True)
    shutil.copytree(ROOT / "templates", workdir / "templates", dirs_exist_ok=True)
    sources = workdir / "configs" / "sources.yaml"
    sources.write_text(sources.read_text().replace("../data/demo", str(data_dir)))
    return workdir / "configs" / "reports" / REPORT.name


def bench_size(rows: int, runs: int, cache: Path) -> dict:
    data_dir = cache / f"demo-{rows}"
    exe = [sys.executable, "-m", "reportgen.cli"]
    if not (data_dir / "manifest.json").exists():
        gen_wall, gen_rss = run_measured(
            [*exe, "--quiet", "demo-data", "--rows", str(rows), "--out", str(data_dir)], ROOT
        )
    else:
        gen_wall, gen_rss = float("nan"), 0
    with tempfile.TemporaryDirectory() as tmp:
        config = project_copy(data_dir, Path(tmp))
        cmd = [
            *exe,
            "--quiet",
            "build",
            str(config),
            "--period",
            "2026-W47",
            "--format",
            "pdf,pptx",
            "--out",
            str(Path(tmp) / "out"),
        ]
        run_measured(cmd, ROOT)  # warm the page cache
        samples = [run_measured(cmd, ROOT) for _ in range(runs)]
    walls = [w for w, _ in samples]
    return {
        "rows": rows,
        "runs": runs,
        "build_wall_s_median": round(statistics.median(walls), 2),
        "build_wall_s_min": round(min(walls), 2),
        "build_peak_rss_mb": max(r for _, r in samples),
        "generate_wall_s": round(gen_wall, 1),
        "generate_peak_rss_mb": gen_rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / ".data")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    results = [bench_size(rows, args.runs, args.cache) for rows in args.sizes]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"\nMachine: {machine}\n")
    print("| decisions | build wall (median) | build peak RSS | demo-data generation |")
    print("|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['rows']:,} | {r['build_wall_s_median']} s | {r['build_peak_rss_mb']} MB | "
            f"{r['generate_wall_s']} s, {r['generate_peak_rss_mb']} MB |"
        )
    out = ROOT / "benchmarks" / "results.json"
    out.write_text(json.dumps({"machine": machine, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
