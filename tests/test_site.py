"""`reportgen publish`: the static report site, checked on its files (the browser tests are in
test_site_browser.py)."""

from __future__ import annotations

import html
import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportgen.cli import app
from reportgen.errors import ConfigError, DeliveryError
from reportgen.formatting import format_full
from reportgen.site import publish_site
from reportgen.site.publish import SiteWriter

W47 = Path("weekly_leadership", "2026-W47")


def report_page(site: Path, audience: str, period: str = "2026-W47") -> Path:
    return site / audience / "weekly_leadership" / period / "index.html"


def specs(page: Path) -> dict[str, dict]:
    """The Vega-Lite specs a page carries, by id."""
    found = re.findall(
        r'<script type="application/json" id="([^"]+)">(.*?)</script>', page.read_text(), re.S
    )
    return {key: json.loads(body) for key, body in found}


def test_each_audience_has_its_own_folder_with_an_index_and_report_pages(published_site):
    site = published_site.site
    for audience, periods in (("leadership", ("2026-W46", "2026-W47")), ("europe", ("2026-W47",))):
        assert (site / audience / "index.html").is_file()
        for period in periods:
            folder = site / audience / "weekly_leadership" / period
            assert {"index.html", "changes.html", "figures.json"} <= {
                p.name for p in folder.iterdir()
            }
    w47 = site / "leadership" / W47
    assert sorted(p.suffix for p in w47.iterdir() if p.suffix in (".pdf", ".pptx", ".xlsx")) == [
        ".pdf",
        ".pptx",
        ".xlsx",
    ]


def test_access_manifest_maps_each_audience_to_its_prefix_and_recipients(published_site):
    manifest = json.loads(published_site.manifest.read_text())
    by_name = {entry["audience"]: entry for entry in manifest["audiences"]}
    assert set(by_name) == {"leadership", "europe"}
    assert by_name["europe"]["path_prefix"] == "/europe/"
    # the shipped config sends leadership's edition to these (to: and bcc: of leadership-email)
    assert by_name["leadership"]["recipients"] == [
        "ts-leadership@example.com",
        "ts-report-archive@example.com",
    ]
    assert by_name["leadership"]["channels"] == ["leadership-email", "ops-chat"]
    assert by_name["europe"]["pages"] == [
        "https://reports.example.com/europe/weekly_leadership/2026-W47/"
    ]
    assert manifest["public"] == ["/index.html", "/assets/"]


def test_every_link_and_script_stays_inside_the_site(published_site):
    site = published_site.site
    for page in site.rglob("*.html"):
        text = html.unescape(page.read_text())
        for target in re.findall(r'(?:href|src)="([^"]*)"', text):
            assert "//" not in target and not target.startswith("/"), (page, target)
            if target.startswith("#") or target == "data:,":  # in-page, or the empty favicon
                continue
            resolved = (page.parent / target.split("#")[0]).resolve()
            assert site.resolve() in resolved.parents and resolved.exists(), (page, target)
        assert "script-src 'self'" in text and "default-src 'none'" in text


def test_the_vega_bundle_comes_from_vl_convert_with_its_licence(published_site):
    import vl_convert

    assets = published_site.site / "assets"
    (bundle,) = assets.glob("vega-*.js")
    assert f"vega-{vl_convert.get_vega_version()}" in bundle.name
    assert "window.vegaEmbed" in bundle.read_text()
    assert "BSD" in (assets / "LICENSES-vega.txt").read_text()


def test_europe_pages_name_no_other_region(published_site, demo_dir):
    org = json.loads((demo_dir / "manifest.json").read_text())["org"]
    foreign = [r for r in org["regions"] if r != "Europe"]
    foreign += [s["code"] for s in org["sites"] if s["region"] != "Europe"]
    text = "\n".join(p.read_text() for p in (published_site.site / "europe").rglob("*.html"))
    assert [label for label in foreign if label in text] == []
    assert "Europe" in text


def test_trend_tooltips_carry_the_value_as_printed_and_n_from_the_raw_rows(
    published_site, raw, demo_dir
):
    # a build without the HTML edition: its page draws figures.json's own trends (W46's)
    page = report_page(published_site.site, "leadership", "2026-W46")
    figures = json.loads((page.parent / "figures.json").read_text())
    rows = specs(page)["spec-aht-trend"]["data"]["values"]
    last = next(r for r in rows if r["period"] == "2026-W46" and r["series"] != "Target")
    assert last["shown"] == format_full(figures["metrics"]["aht"]["value"], "seconds")
    start = figures["metrics"]["aht"]["series"][-1]["start"]
    end = (date.fromisoformat(start) + timedelta(days=7)).isoformat()
    (manual,) = raw.execute(
        f"SELECT count(*) FROM read_parquet('{demo_dir}/decisions/*.parquet') WHERE NOT automated "
        f"AND decided_at >= TIMESTAMPTZ '{start} 00:00:00+00' "
        f"AND decided_at < TIMESTAMPTZ '{end} 00:00:00+00'"
    ).fetchone()
    assert last["n"] == f"{manual:,}"


def test_breakdown_tooltips_show_this_and_the_previous_period_with_n(published_site):
    page = report_page(published_site.site, "leadership", "2026-W46")
    figures = json.loads((page.parent / "figures.json").read_text())
    europe = next(
        s
        for s in figures["metrics"]["qa_accuracy"]["breakdowns"]["region"]
        if s["segment"] == "Europe"
    )
    rows = [
        r
        for r in specs(page)["spec-qa_accuracy-region"]["data"]["values"]
        if r["segment"] == "Europe"
    ]
    assert {r["period"]: r["shown"] for r in rows} == {
        "2026-W46": format_full(europe["value"], "percent"),
        "2026-W45": format_full(europe["previous"], "percent"),
    }
    assert rows[0]["n"] == f"{europe['stats']['denominator']:,.0f}"


def test_republishing_unchanged_builds_writes_nothing(published_site, site_builds, weekly_config):
    again = publish_site(
        site_builds,
        published_site.site,
        configs=[weekly_config],
        base_url="https://reports.example.com/",
    )
    assert again.written == ()


def test_a_new_period_rewrites_only_the_pages_that_change(site_builds, weekly_config, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(
        site_builds / "weekly_leadership" / "2026-W47", out / W47, copy_function=shutil.copy2
    )
    site = tmp_path / "site"
    publish_site(out, site, configs=[weekly_config])
    w46 = Path("weekly_leadership", "2026-W46", "leadership")
    shutil.copytree(site_builds / w46, out / w46, copy_function=shutil.copy2)
    result = publish_site(out, site, configs=[weekly_config])
    written = set(result.written)
    assert {
        "leadership/weekly_leadership/2026-W46/index.html",
        "leadership/weekly_leadership/2026-W47/index.html",  # now links back to W46
        "leadership/weekly_leadership/2026-W47/changes.html",  # compares with W46's stories
        "leadership/index.html",
        "access.json",
    } <= written
    assert not any(p.startswith("europe/") for p in written)
    assert "leadership/weekly_leadership/2026-W47/figures.json" not in written
    assert not any(p.startswith("assets/") for p in written)


def test_one_audience_can_be_published_alone(site_builds, weekly_config, tmp_path):
    result = publish_site(
        site_builds, tmp_path / "site", audience="europe", configs=[weekly_config]
    )
    assert {key[2] for key in result.pages} == {"europe"}
    assert not (tmp_path / "site" / "leadership").exists()
    assert not (tmp_path / "site" / "index.html").exists()  # the front page lists every audience


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    writer = SiteWriter(tmp_path)
    page = Path("a", "index.html")
    writer.write(page, b"old")

    def fail(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("reportgen.site.publish.os.replace", fail)
    with pytest.raises(DeliveryError, match="No space left on device"):
        writer.write(page, b"new")
    assert (tmp_path / page).read_bytes() == b"old"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["index.html"]


def test_publishing_without_builds_says_how_to_make_one(tmp_path):
    (tmp_path / "output").mkdir()
    with pytest.raises(ConfigError, match="no built report") as caught:
        publish_site(tmp_path / "output", tmp_path / "site")
    assert "reportgen build" in str(caught.value)


def test_the_site_may_not_live_inside_the_output_folder(site_builds):
    with pytest.raises(ConfigError, match="inside the output folder"):
        publish_site(site_builds, site_builds / "site")


def test_cli_publish_prints_each_page_url(site_builds, weekly_config, tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "publish",
            str(site_builds),
            "--site",
            str(tmp_path / "site"),
            "--config",
            str(weekly_config),
            "--base-url",
            "https://reports.example.com",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "https://reports.example.com/europe/weekly_leadership/2026-W47/" in result.output


def test_each_published_page_is_recorded_in_the_ledger_once(site_builds, weekly_config, tmp_path):
    import hashlib

    from reportgen.ops.ledger import open_ledger
    from reportgen.site.published import published_pages

    out = tmp_path / "out"
    europe = Path("weekly_leadership", "2026-W47", "europe")
    shutil.copytree(site_builds / europe, out / europe, copy_function=shutil.copy2)
    open_ledger(None, out).engine.dispose()  # a ledger beside the artifacts, as --send makes
    for _ in range(2):  # the second publish changes nothing, so records nothing
        publish_site(
            out, tmp_path / "site", configs=[weekly_config], base_url="https://reports.example.com/"
        )
    rows = published_pages(out)
    assert [(r["report"], r["period"], r["audience"], r["url"]) for r in rows] == [
        (
            "weekly_leadership",
            "2026-W47",
            "europe",
            "https://reports.example.com/europe/weekly_leadership/2026-W47/",
        )
    ]
    digest = hashlib.sha256((out / europe / "figures.json").read_bytes()).hexdigest()
    assert rows[0]["figures_sha256"] == digest


def test_a_republish_reuses_each_pages_drawn_edition(
    site_builds, weekly_config, tmp_path, monkeypatch
):
    site = tmp_path / "site"
    publish_site(site_builds, site, configs=[weekly_config])
    page = report_page(site, "europe")
    assert "<!-- reportgen-edition " in page.read_text()

    def redrawn(*_args, **_kwargs):
        raise AssertionError("an unchanged edition was drawn again")

    monkeypatch.setattr("reportgen.site.publish.edition_sections", redrawn)
    again = publish_site(site_builds, site, configs=[weekly_config])
    assert again.written == ()
