"""Benchmark: fan-out of many audience variants from one cube (wall time, peak RSS).

Writes a copy of the weekly leadership report with one audience per site, per
region and per queue (plus the unrestricted one) — 50 with the demo org —
and runs ``reportgen build --audience all`` once as a separate process.

    python benchmarks/bench_fanout.py --data benchmarks/.data/demo-10000000 [--audiences 50]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
from pathlib import Path

import yaml
from bench_build import ROOT, run_measured


def audiences(org: dict, count: int) -> list[dict]:
    found = [{"name": "everyone", "label": "Everyone"}]
    found += [
        {"name": f"region-{i}", "label": r, "filter": {"region": r}}
        for i, r in enumerate(org["regions"])
    ]
    found += [
        {"name": f"site-{s['code'].lower()}", "label": s["code"], "filter": {"site": s["code"]}}
        for s in org["sites"]
    ]
    found += [
        {
            "name": f"queue-{i}",
            "label": q["name"],
            "filter": {"queue": q["name"]},
            "metrics": ["decisions", "aht"],
        }
        for i, q in enumerate(org["queues"])
    ]
    return found[:count]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--audiences", type=int, default=50)
    parser.add_argument("--format", default="pdf,pptx")
    args = parser.parse_args()
    org = json.loads((args.data / "manifest.json").read_text())["org"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "configs", work / "configs")
        shutil.copytree(ROOT / "templates", work / "templates")
        sources = work / "configs" / "sources.yaml"
        sources.write_text(sources.read_text().replace("../data/demo", str(args.data.resolve())))
        report_path = work / "configs" / "reports" / "weekly_leadership.yaml"
        report = yaml.safe_load(report_path.read_text())
        report["audiences"] = audiences(org, args.audiences)
        report.pop(
            "delivery", None
        )  # its channels name the shipped audiences; a build sends nothing
        report_path.write_text(yaml.safe_dump(report, sort_keys=False))
        cmd = [  # this interpreter's reportgen: a bare "reportgen" need not be on PATH
            sys.executable,
            "-m",
            "reportgen.cli",
            "--quiet",
            "build",
            str(report_path),
            "--period",
            "2026-W47",
            "--audience",
            "all",
            "--format",
            args.format,
            "--out",
            str(work / "out"),
        ]
        wall, rss = run_measured(cmd, ROOT)
        # the build and every process it waited for (audience workers, renderers, drawing):
        # on a shared machine the CPU seconds vary less than the wall time
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        largest = children.ru_maxrss // 1024
        cpu = children.ru_utime + children.ru_stime
        built = sum(1 for _ in (work / "out" / "weekly_leadership" / "2026-W47").iterdir())
    count = len(report["audiences"])
    print(
        f"{count} audiences ({built} built), {args.format}, {os.cpu_count()} cores: "
        f"wall {wall:.1f} s ({wall / max(built, 1):.1f} s an audience), CPU {cpu:.0f} s "
        f"(user + sys), peak RSS of the process tree {rss} MB, largest single process "
        f"{largest} MB"
    )


if __name__ == "__main__":
    main()
