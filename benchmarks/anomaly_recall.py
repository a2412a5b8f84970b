"""Recall and false alarms of the weekly report's anomaly detection on demo data.

For each planted incident in the demo manifest: is it flagged (right metric,
dimension, segment) in its week? For incident-free weeks: how many anomalies
does the report raise? Quoted in the README.

    python benchmarks/anomaly_recall.py [--data data/demo] [--weeks 2026-W30..2026-W44]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from pathlib import Path

from reportgen.analysis.insights import analyze
from reportgen.config import load_report
from reportgen.data.plan import needed_measures
from reportgen.data.scan import compute_cube
from reportgen.figures import Targets, compute_figures
from reportgen.periods import parse_period

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--first", default="2026-W30")
    parser.add_argument("--last", default="2026-W44")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "configs", Path(tmp) / "configs")
        shutil.copytree(ROOT / "templates", Path(tmp) / "templates")
        sources = Path(tmp) / "configs" / "sources.yaml"
        sources.write_text(sources.read_text().replace("../data/demo", str(args.data.resolve())))
        report = load_report(Path(tmp) / "configs" / "reports" / "weekly_leadership.yaml")
        cube = compute_cube(report, needed_measures(report))
        targets = Targets.load(report)

        def anomalies(week: str):
            return analyze(
                report, cube, compute_figures(report, cube, parse_period(week), targets)
            ).anomalies

        manifest = json.loads((args.data / "manifest.json").read_text())
        found = 0
        for incident in manifest["incidents"]:
            key = (incident["metric"], incident["dimension"], incident["segment"])
            hits = [
                a for a in anomalies(incident["week"]) if (a.metric, a.dimension, a.segment) == key
            ]
            found += bool(hits)
            methods = (
                ", ".join(sorted({f"{a.method} z={a.robust_z:+.1f}" for a in hits})) or "MISSED"
            )
            print(f"{incident['id']:24} {incident['week']}  {methods}")
        period = parse_period(args.first)
        counts = []
        while period.label <= args.last:
            counts.append(len(anomalies(period.label)))
            period = period.shift(1)
        print(
            f"\nrecall {found}/{len(manifest['incidents'])}; incident-free weeks {args.first}..{args.last}: "
            f"mean {statistics.mean(counts):.1f}, max {max(counts)} anomalies per report ({counts})"
        )


if __name__ == "__main__":
    main()
