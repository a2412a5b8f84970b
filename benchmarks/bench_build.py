"""Benchmark: wall time and peak memory by data size, cold and cached (cube cache).

For each size the demo data is generated once (outside the timing; 100M rows
go straight to Parquet day by day, in bounded memory). Two things are timed,
each as a separate process:

* **cube** — ``compute_cube`` only: the part that scans raw rows, i.e. the
  part whose cost could grow with the data;
* **build** — the whole ``reportgen build`` of the weekly leadership report
  (PDF + PPTX), rendering included.

Peak RSS is that of the whole process tree: the build draws its charts in
a short-lived worker process, so the benchmark samples the memory of the
process tree every 10 ms (the build's RSS plus each descendant's private
memory, see :func:`tree_memory_kb`) and reports the larger of that and
``ru_maxrss`` (the largest single process).

Each is measured **cold** (cube cache emptied first: every day is scanned)
and **cached** (closed days read from the cache: only the open day is
scanned). The cube is also measured **restated**: before each run, late
appeals for one closed day (``RESTATED_DAY``) arrive as a new file in the
decisions glob, so the build must rescan that day (and a day of slack on
either side) besides the open one. Results print as a Markdown table for the README and are written
to ``benchmarks/results.json``.

    python benchmarks/bench_build.py                                 # 1M, 10M and 100M rows
    python benchmarks/bench_build.py --sizes 1000000 10000000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "configs" / "reports" / "weekly_leadership.yaml"
PERIOD = "2026-W47"
RESTATED_DAY = "2026-11-10"


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Run a command; return (wall seconds, peak RSS in MB of its process tree)."""
    wall, rss, _ = run_with_output(cmd, cwd)
    return wall, rss


def _status_kb(pid: int, field: str, name: str = "status") -> int:
    text = Path(f"/proc/{pid}/{name}").read_text()
    return sum(int(line.split()[1]) for line in text.splitlines() if line.startswith(field))


def tree_memory_kb(pid: int) -> int:
    """Current memory of a process and its descendants, in kB.

    The process counts with its RSS; each descendant with its private memory
    only (USS: ``Private_Clean`` + ``Private_Dirty``). A child forked for a moment
    (ctypes' ``find_library`` runs gcc and ldconfig that way when WeasyPrint loads
    Pango) shares the parent's pages — until it execs it is not counted at all
    (:func:`_forked_copy`) — and the chart worker shares libpython: counting
    their RSS would count those pages twice. PSS is not used either: it
    shrinks when unrelated processes on the machine load the same libraries.
    """
    try:
        total = _status_kb(pid, "VmRSS:")
    except OSError:
        return 0
    pending = [(child, pid) for child in _children(pid)]
    while pending:
        child, parent = pending.pop()
        try:
            if not _forked_copy(child, parent):
                total += _status_kb(child, "Private_", "smaps_rollup")
        except OSError:
            continue  # ended while being read
        pending.extend((grandchild, child) for grandchild in _children(child))
    return total


def _forked_copy(child: int, parent: int) -> bool:
    """A child between fork and exec: it still runs the parent's program.

    ``subprocess`` may use vfork, so such a child reports the parent's own
    address space as its memory; counting it would count the parent twice.
    """
    own, parents = (Path(f"/proc/{pid}/cmdline").read_bytes() for pid in (child, parent))
    return own == parents


def _children(pid: int) -> list[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return [int(c) for task in tasks for c in (task / "children").read_text().split()]
    except (OSError, ValueError):
        return []


class TreeSampler(threading.Thread):
    """Samples the process tree's memory every 10 ms; ``peak_kb`` is the largest sum seen.

    ``ru_maxrss`` from ``wait4`` is the peak of one process (for its children, the
    largest child's), never a sum: a build that draws its charts in worker processes
    would look smaller than it is. The sum of the tree is what the machine has to hold.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb = pid, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.peak_kb = max(self.peak_kb, tree_memory_kb(self.pid))


def run_with_output(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    """Like :func:`run_measured`, also returning what the process printed (stdout).

    The peak is the larger of ``ru_maxrss`` (the largest single process) and the
    sampled peak of the whole process tree.
    """
    wall, peak_mb, printed, _, _ = run_with_streams(cmd, cwd)
    return wall, peak_mb, printed


def run_with_streams(cmd: list[str], cwd: Path) -> tuple[float, int, str, str, float]:
    """Wall seconds, peak MB of the process tree, stdout, stderr and CPU seconds of one run.

    The CPU seconds (user + sys) are the process's and those of every descendant it
    waited for (renderers, the drawing process): on a shared machine they vary less
    than the wall time, so a regression shows in them first.
    """
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        printed, complained = out.read().decode(), err.read().decode()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{complained}")
        peak_kb = max(usage.ru_maxrss, sampler.peak_kb)
        cpu = usage.ru_utime + usage.ru_stime
        return wall, peak_kb // 1024, printed, complained, cpu


_STAGE_LINE = re.compile(r"^\s*(\d+\.\d+) s  (.+?)\s*$")
_OWN_PROCESS = re.compile(r"^(\w+) written \((\d+\.\d+) s in its process\)$")


def stage_times(verbose_output: str) -> dict[str, float]:
    """Seconds per stage from ``reportgen --verbose build``'s "Time per stage" list.

    A format rendered in a process of its own reports its own seconds
    ("PDF written (6.10 s in its process)"): that is its stage ("render PDF"),
    since the build process only waits meanwhile.
    """
    stages: dict[str, float] = {}
    listing = verbose_output.split("Time per stage:", 1)[-1]
    for line in listing.splitlines():
        found = _STAGE_LINE.match(line)
        if not found:
            continue
        seconds, name = float(found.group(1)), found.group(2)
        if own := _OWN_PROCESS.match(name):
            stages[f"render {own.group(1)}"] = float(own.group(2))
        elif not name.startswith("Rendering ") or "own process" not in name:
            stages[name] = stages.get(name, 0.0) + seconds
    return stages


def project_copy(data_dir: Path, workdir: Path) -> Path:
    """Configs and templates pointing at the benchmark's data folder; the report path."""
    shutil.copytree(ROOT / "configs", workdir / "configs", dirs_exist_ok=True)
    shutil.copytree(ROOT / "templates", workdir / "templates", dirs_exist_ok=True)
    sources = workdir / "configs" / "sources.yaml"
    sources.write_text(sources.read_text().replace("../data/demo", str(data_dir)))
    return workdir / "configs" / "reports" / REPORT.name


def cube_only(config: str) -> None:
    """Child process: the cube as a build makes it — additive cube, then the period's sketches.

    Closed days come from the cube cache after a cold run; sketches (quantile
    metrics) are counted for the periods the build of ``PERIOD`` shows.
    """
    from reportgen.build import add_sketches, cached_cube
    from reportgen.config.loader import load_report
    from reportgen.data.engines import Engines
    from reportgen.periods import parse_period

    report = load_report(config)
    start = time.perf_counter()
    engines = Engines(report.sources, report.sources_path)
    try:
        cube = cached_cube(report, True, lambda _message: None, engines)
        cube = add_sketches(report, cube, parse_period(PERIOD), True, engines)
    finally:
        engines.close()
    print(json.dumps({"compute_s": time.perf_counter() - start, "cube_rows": cube.rows}))


def generate(rows: int, data_dir: Path) -> tuple[float, int]:
    if (data_dir / "manifest.json").exists():
        return float("nan"), 0
    exe = [sys.executable, "-m", "reportgen.cli", "--quiet", "demo-data"]
    return run_measured([*exe, "--rows", str(rows), "--out", str(data_dir)], ROOT)


def late_appeals(data_dir: Path, run: int) -> Path:
    """One closed day's enforcement decisions appealed and overturned, as a new file (late data)."""
    import duckdb

    target = data_dir / "decisions" / f"late-{run}.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        f"COPY (SELECT * REPLACE (decision_id + {(run + 1) * 10**12} AS decision_id, "
        "true AS appealed, true AS overturned) "
        f"FROM read_parquet('{data_dir}/decisions/part-*.parquet') "
        f"WHERE CAST(decided_at AS DATE) = DATE '{RESTATED_DAY}' "
        f"AND action IN ('remove', 'restrict') LIMIT 2000) TO '{target}' (FORMAT parquet)"
    )
    con.close()
    return target


def measure(cmd: list[str], cache_dir: Path, runs: int, *, cold: bool, before=None) -> dict:
    """Median wall and max peak RSS over ``runs`` processes (cache emptied first when cold).

    A build run with ``--verbose`` also gets the median seconds of each stage.
    """
    samples, inner, stages, cpus = [], [], [], []
    for run in range(runs):
        if before is not None:
            before(run)
        if cold:
            shutil.rmtree(cache_dir, ignore_errors=True)
        wall, rss, printed, complained, cpu = run_with_streams(cmd, ROOT)
        samples.append((wall, rss))
        cpus.append(cpu)
        lines = [line for line in printed.splitlines() if line.startswith("{")]
        if lines:
            inner.append(json.loads(lines[-1]))
        if "Time per stage:" in complained:
            stages.append(stage_times(complained))
    walls = [w for w, _ in samples]
    result = {
        "wall_s_median": round(statistics.median(walls), 2),
        "wall_s_min": round(min(walls), 2),
        "cpu_s_median": round(statistics.median(cpus), 2),
        "peak_rss_mb": max(r for _, r in samples),
    }
    if stages:
        result["stages_s_median"] = {
            name: round(statistics.median(s.get(name, 0.0) for s in stages), 2)
            for name in stages[-1]
        }
    if inner:  # the cube child reports compute_cube's own time (no interpreter start, imports)
        result["compute_s_median"] = round(statistics.median(i["compute_s"] for i in inner), 2)
        result["cube_rows"] = inner[-1]["cube_rows"]
    return result


def measure_cube(result: dict, cmd: list[str], cache_dir: Path, runs: int, data_dir: Path) -> None:
    """The cube process cold, cached, and with one closed day restated by late data."""
    result["cube_cold"] = measure(cmd, cache_dir, runs, cold=True)
    result["cube_cached"] = measure(cmd, cache_dir, runs, cold=False)
    late: list[Path] = []
    try:
        result["cube_restated"] = measure(
            cmd,
            cache_dir,
            runs,
            cold=False,
            before=lambda run: late.append(late_appeals(data_dir, run)),
        )
    finally:
        for path in late:
            path.unlink(missing_ok=True)


def bench_size(rows: int, runs: int, data_root: Path, *, cube: bool = True) -> dict:
    data_dir = data_root / f"demo-{rows}"
    gen_wall, gen_rss = generate(rows, data_dir)
    result: dict = {"rows": rows, "runs": runs}
    with tempfile.TemporaryDirectory() as tmp:
        config = project_copy(data_dir, Path(tmp))
        cache_dir = Path(tmp) / ".cache"
        cube_cmd = [sys.executable, __file__, "--cube-only", str(config)]
        build = [sys.executable, "-m", "reportgen.cli", "--verbose", "build", str(config)]
        build += ["--period", PERIOD, "--out", str(Path(tmp) / "out"), "--format"]
        every_format = [*build, "pdf,pptx,html,xlsx"]
        build.append("pdf,pptx")
        run_measured(cube_cmd, ROOT)  # warm the page cache
        if cube:
            measure_cube(result, cube_cmd, cache_dir, runs, data_dir)
        result["build_cold"] = measure(build, cache_dir, runs, cold=True)
        result["build_cached"] = measure(build, cache_dir, runs, cold=False)
        result["build_all_formats_cold"] = measure(every_format, cache_dir, runs, cold=True)
    result["generate_wall_s"] = round(gen_wall, 1)
    result["generate_peak_rss_mb"] = gen_rss
    result["data_mb"] = round(sum(f.stat().st_size for f in data_dir.rglob("*")) / 2**20)
    print(json.dumps(result), flush=True)
    return result


def generation(result: dict) -> str:
    """Demo-data generation cost, or a dash when the data set already existed (not measured)."""
    wall = result["generate_wall_s"]
    if wall != wall:  # NaN
        return "—"
    return f"{wall} s, {result['generate_peak_rss_mb']} MB"


def table(results: list[dict]) -> str:
    def cell(r: dict, key: str) -> str:
        if key not in r:
            return "—"
        inner = r[key].get("compute_s_median")
        cpu = r[key].get("cpu_s_median")
        if inner is not None:
            detail = f" ({inner} s in compute_cube)"
        elif cpu is not None:
            detail = f" ({cpu} s CPU)"
        else:
            detail = ""
        return f"{r[key]['wall_s_median']} s{detail}, {r[key]['peak_rss_mb']} MB"

    lines = [
        "| decisions | Parquet size | cube cold | cube cached | cube, one closed day restated "
        "| build cold | build cached | build cold, all four formats | demo-data generation |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['data_mb']:,} MB | {cell(r, 'cube_cold')} | "
            f"{cell(r, 'cube_cached')} | {cell(r, 'cube_restated')} | {cell(r, 'build_cold')} | "
            f"{cell(r, 'build_cached')} | {cell(r, 'build_all_formats_cold')} | {generation(r)} |"
        )
    return "\n".join(lines)


BUILDS = {
    "build_cold": "PDF + PPTX, cold",
    "build_cached": "PDF + PPTX, cached",
    "build_all_formats_cold": "all four, cold",
}


def stage_table(results: list[dict]) -> str:
    """Median seconds per stage of each build measured (renderers: their own process's time)."""
    columns = [(r, key) for r in results for key in BUILDS if "stages_s_median" in r.get(key, {})]
    if not columns:
        return ""
    names = list(dict.fromkeys(n for r, key in columns for n in r[key]["stages_s_median"]))
    header = " | ".join(f"{r['rows']:,}: {BUILDS[key]}" for r, key in columns)
    lines = [f"| stage | {header} |", "|---|" + "---:|" * len(columns)]
    for name in names:
        cells = " | ".join(
            f"{r[key]['stages_s_median'][name]:.2f} s" if name in r[key]["stages_s_median"] else "—"
            for r, key in columns
        )
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--cube-only":
        cube_only(sys.argv[2])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000, 100_000_000]
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--builds-only", action="store_true", help="skip the cube-only processes (quicker)"
    )
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / ".data")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    results = [
        bench_size(rows, args.runs, args.data, cube=not args.builds_only) for rows in args.sizes
    ]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"\nMachine: {machine}\n\n{table(results)}\n\n{stage_table(results)}")
    out = ROOT / "benchmarks" / "results.json"
    out.write_text(json.dumps({"machine": machine, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
