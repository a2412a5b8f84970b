"""Drawn charts kept between builds, and chart specs built without Altair's copies.

A kept drawing is served only for the very same spec (data values inline),
so a corrected number is always drawn anew; the spec a build writes is the
one Altair writes with its own deep copies.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from reportgen.config.loader import load_report
from reportgen.data.cache import default_cache_dir
from reportgen.document import Chart
from reportgen.render.charts import drawings as drawings_module
from reportgen.render.charts import svg, vega
from reportgen.render.charts._layers import InlineRows, SharedLayer
from reportgen.render.charts.drawings import FOLDER, DrawingCache, drawing_key, source_key
from reportgen.render.charts.svg import chart_to_altair, vegalite_spec


def _spec(value: float = 1.0) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "data": {"values": [{"week": "W46", "value": 0.5}, {"week": "W47", "value": value}]},
        "mark": "bar",
        "encoding": {
            "x": {"field": "week", "type": "nominal"},
            "y": {"field": "value", "type": "quantitative"},
        },
        "width": 120,
        "height": 80,
    }


@pytest.fixture
def drawings(tmp_path: Path):
    cache = DrawingCache(tmp_path / FOLDER)
    with vega.keep_drawings(cache):
        yield cache


def test_the_same_spec_is_drawn_once_and_then_served_from_disk(drawings) -> None:
    first = vega.vegalite_to_svg(_spec())
    again = vega.vegalite_to_svg(_spec())
    assert again == first
    assert (drawings.misses, drawings.hits) == (1, 1)
    assert first.rstrip().endswith("</svg>")


def test_a_changed_value_is_a_new_drawing(drawings) -> None:
    before = vega.vegalite_to_svg(_spec(1.0))
    after = vega.vegalite_to_svg(_spec(0.8))
    assert drawings.misses == 2 and drawings.hits == 0
    assert drawing_key(_spec(1.0)) != drawing_key(_spec(0.8))
    assert before != after


def test_the_key_does_not_depend_on_the_order_of_the_spec_keys() -> None:
    spec = _spec()
    assert drawing_key(dict(reversed(spec.items()))) == drawing_key(spec)


def test_a_damaged_drawing_on_disk_is_drawn_again_and_repaired(drawings) -> None:
    drawn = vega.vegalite_to_svg(_spec())
    (kept,) = drawings.root.glob("*/*.svg")
    kept.write_text(drawn[: len(drawn) // 2], encoding="utf-8")  # cut short, as by a full disk
    assert vega.vegalite_to_svg(_spec()) == drawn
    assert drawings.hits == 0 and drawings.misses == 2
    assert kept.read_text(encoding="utf-8") == drawn


def test_no_cache_draws_again_and_rewrites_what_is_kept(tmp_path: Path) -> None:
    kept = DrawingCache(tmp_path)
    with vega.keep_drawings(kept):
        vega.vegalite_to_svg(_spec())
    (path,) = tmp_path.glob("*/*.svg")
    path.write_text("<svg>stale but whole</svg>", encoding="utf-8")
    fresh = DrawingCache(tmp_path, read=False)
    with vega.keep_drawings(fresh):
        drawn = vega.vegalite_to_svg(_spec())
    assert fresh.hits == 0 and fresh.misses == 1
    assert path.read_text(encoding="utf-8") == drawn != "<svg>stale but whole</svg>"


def test_pruning_drops_the_least_recently_used_drawings(tmp_path: Path) -> None:
    cache = DrawingCache(tmp_path, keep=2)
    specs = [_spec(v) for v in (0.1, 0.2, 0.3)]
    for age, spec in enumerate(specs):
        cache.put(spec, f"<svg>{age}</svg>")
        (path,) = tmp_path.glob(f"*/{drawing_key(spec)}.svg")
        os.utime(path, (1_000_000 + age, 1_000_000 + age))
    assert cache.get(specs[0]) is not None  # read now: the most recently used
    assert cache.prune() == 1
    assert cache.get(specs[1]) is None
    assert cache.get(specs[0]) is not None and cache.get(specs[2]) is not None


def test_a_cache_that_cannot_be_written_does_not_fail_the_drawing(tmp_path: Path, caplog) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    with (
        caplog.at_level(logging.WARNING, "reportgen.render"),
        vega.keep_drawings(DrawingCache(blocked)),
    ):
        svg = vega.vegalite_to_svg(_spec())
        vega.vegalite_to_svg(_spec(0.5))
    assert svg.rstrip().endswith("</svg>")
    assert caplog.text.count("could not keep a drawn chart") == 1


def _source(value: float = 1.0) -> tuple:
    """What a spec is built from, as svg.py passes it: a frozen block, the brand, a size."""
    return (("bar", ("W46", "W47"), (0.5, value)), "brand", 640, None)


def test_a_drawing_is_found_from_what_its_spec_is_built_from(tmp_path: Path) -> None:
    cache = DrawingCache(tmp_path)
    cache.put(_spec(), "<svg>drawn</svg>")
    cache.point(_source(), _spec())
    assert cache.get_for(_source()) == "<svg>drawn</svg>"
    assert cache.get_for(_source(0.8)) is None  # a corrected number: built and drawn anew


def test_a_change_to_the_code_that_builds_specs_is_a_new_source_key(monkeypatch) -> None:
    before = source_key(_source())
    monkeypatch.setattr(drawings_module, "_builder_version", lambda: "edited svg.py")
    assert source_key(_source()) != before


def test_the_source_digest_changes_with_any_file_of_the_package(tmp_path: Path) -> None:
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "svg.py").write_text("WIDTH = 640\n")
    before = drawings_module.source_digest(tmp_path)
    (tmp_path / "charts" / "svg.py").write_text("WIDTH = 600\n")
    edited = drawings_module.source_digest(tmp_path)
    (tmp_path / "formatting.py").write_text("")
    assert len({before, edited, drawings_module.source_digest(tmp_path)}) == 3


def test_the_builder_version_is_the_digest_of_reportgens_own_source() -> None:
    package = Path(svg.__file__).resolve().parents[2]
    assert drawings_module._builder_version().startswith(drawings_module.source_digest(package))


def test_a_pointer_to_a_pruned_or_damaged_drawing_is_a_miss_not_an_error(tmp_path: Path) -> None:
    cache = DrawingCache(tmp_path)
    cache.put(_spec(), "<svg>drawn</svg>")
    cache.point(_source(), _spec())
    (drawn,) = tmp_path.glob("*/*.svg")
    drawn.unlink()
    assert cache.get_for(_source()) is None
    (pointer,) = tmp_path.glob("*/*.source")
    pointer.write_text("not a key", encoding="ascii")
    cache.put(_spec(), "<svg>drawn</svg>")
    assert cache.get_for(_source()) is None


def test_no_cache_serves_nothing_from_a_pointer(tmp_path: Path) -> None:
    DrawingCache(tmp_path).put(_spec(), "<svg>drawn</svg>")
    DrawingCache(tmp_path).point(_source(), _spec())
    assert DrawingCache(tmp_path, read=False).get_for(_source()) is None


@pytest.fixture(scope="module")
def rebuilt(weekly_config: Path, tmp_path_factory):
    """The W47 HTML built twice in this process, the first with --no-cache; the chart
    drawings and spec builds counted per build."""
    from datetime import UTC, datetime

    from reportgen import build_report

    drawn: list[int] = []
    built: list[int] = []
    real_draw = vega._Pool.draw
    real_build = svg.vegalite_spec

    def counted(pool, spec):
        drawn[-1] += 1
        return real_draw(pool, spec)

    def counted_build(build):
        built[-1] += 1
        return real_build(build)

    patch = pytest.MonkeyPatch()
    patch.setattr(vega._Pool, "draw", counted)
    patch.setattr(svg, "vegalite_spec", counted_build)
    results = []
    try:
        for n in range(2):
            svg._chart_to_svg.cache_clear()  # a new process, as a rebuild is
            svg._graphic_to_svg.cache_clear()
            drawn.append(0)
            built.append(0)
            results.append(
                build_report(
                    weekly_config,
                    period="2026-W47",
                    formats=["html"],
                    out_dir=tmp_path_factory.mktemp(f"rebuilt{n}"),
                    now=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
                    render_processes=1,
                    # the first as --no-cache: every spec built and every chart drawn, whatever
                    # other modules' builds of this project left in its cache folder
                    cache=n == 1,
                )
            )
    finally:
        patch.undo()
    return results, drawn, built


def test_a_rebuild_on_the_same_data_draws_no_chart_again(rebuilt) -> None:
    (first, second), drawn, _ = rebuilt
    assert drawn[1] == 0
    assert second.artifacts["html"].read_bytes() == first.artifacts["html"].read_bytes()


def test_a_rebuild_on_the_same_data_builds_no_chart_spec_again(rebuilt) -> None:
    _, _, built = rebuilt
    assert built[0] > 0 and built[1] == 0


def test_a_build_keeps_its_drawings_in_the_report_cache_folder(rebuilt, weekly_config) -> None:
    (first, _), _, _ = rebuilt
    folder = default_cache_dir(load_report(weekly_config)) / FOLDER
    charts = [b for s in first.document.sections for b in s.blocks if isinstance(b, Chart)]
    assert len(list(folder.glob("*/*.svg"))) >= len(charts) > 0


def test_cache_status_counts_the_kept_drawings(rebuilt, weekly_config) -> None:
    from typer.testing import CliRunner

    from reportgen.cli import app

    shown = CliRunner().invoke(app, ["cache", "status", str(weekly_config)])
    assert shown.exit_code == 0, shown.output
    kept = shown.output.split("drawn charts\n")[1]
    count = int(kept.split("kept", 1)[1].split()[0])
    assert count >= 1 and f"in {default_cache_dir(load_report(weekly_config)) / FOLDER}" in kept


def test_shared_layers_write_the_spec_altair_writes_with_its_own_copies(
    built_report, monkeypatch
) -> None:
    document = built_report.document
    charts = [b for s in document.sections for b in s.blocks if isinstance(b, Chart)]
    assert {c.chart_type for c in charts} >= {"wbr", "bar"}
    shared = [vegalite_spec(lambda c=c: chart_to_altair(c, document.brand)) for c in charts]
    monkeypatch.delattr(SharedLayer, "__deepcopy__")
    monkeypatch.delattr(InlineRows, "__deepcopy__")
    copied = [chart_to_altair(c, document.brand).to_dict(validate=True) for c in charts]
    assert shared == copied
