"""Load a report config with everything it refers to, and cross-check the references.

Single-file validation is pydantic's job; this module checks what spans
files (a report's metric must exist in the catalog, a measure's fact must
exist in the sources) and reports each problem at the line that caused it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from reportgen.config._yaml import LocatedYaml, load_yaml, validate_model
from reportgen.config.brand import load_brand
from reportgen.config.models import (
    BUILTIN_SEVERITY,
    ROWS_COUNTER,
    Catalog,
    FactDef,
    MeanMetric,
    MetricChoice,
    MetricDef,
    RatioMetric,
    ReportConfig,
    SourcesConfig,
    TotalMetric,
)
from reportgen.document import Brand
from reportgen.errors import ConfigError


@dataclass(frozen=True)
class ResolvedReport:
    """A report config with its catalog, sources and brand loaded and cross-checked."""

    id: str
    path: Path
    config: ReportConfig
    catalog: Catalog
    catalog_path: Path
    sources: SourcesConfig
    sources_path: Path
    brand: Brand
    metrics: tuple[MetricChoice, ...]  # with per-metric breakdowns resolved

    def metric(self, name: str) -> MetricDef:
        return self.catalog.metrics[name]

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Every dimension the report breaks down, checks or decomposes by (the cube's grain)."""
        seen: dict[str, None] = {}
        for choice in self.metrics:
            for dim in choice.breakdowns or ():
                seen[dim] = None
        for dim in (*self.anomaly_dimensions, *self.decomposition_dimensions):
            seen[dim] = None
        for audience in self.config.audience_list():  # row filters need their dimension in the cube
            seen.update(dict.fromkeys(audience.filter))
        if self.uses_section("deep_dive"):
            deep = self.config.insights.deep_dive
            seen[deep.unit] = None
            seen.update(dict.fromkeys(deep.logit.by if deep.logit else ()))
        return tuple(seen)

    def uses_section(self, name: str) -> bool:
        """Whether the report or any of its audiences shows this section."""
        if name in self.config.sections:
            return True
        return any(
            name in (a.sections or ()) or (name == "deep_dive" and a.detail == "operational")
            for a in self.config.audience_list()
        )

    @property
    def breakdowns(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for choice in self.metrics:
            seen.update(dict.fromkeys(choice.breakdowns or ()))
        return tuple(seen)

    @property
    def anomaly_dimensions(self) -> tuple[str, ...]:
        configured = self.config.insights.anomalies.dimensions
        return tuple(configured) if configured is not None else self.breakdowns

    @property
    def decomposition_dimensions(self) -> tuple[str, ...]:
        configured = self.config.insights.decomposition.dimensions
        if configured is not None:
            return tuple(configured)
        return self.breakdowns[:1]

    def metric_dimensions(self, metric: str) -> list[str]:
        """Dimensions this metric can be split by (every fact it uses has them)."""
        return breakdown_dimensions(self.catalog, metric)


def suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"known: {', '.join(sorted(choices))}"


def load_catalog(path: Path) -> Catalog:
    source = load_yaml(path)
    catalog = validate_model(Catalog, source)
    _check_catalog_references(catalog, source)
    return catalog


def _check_catalog_references(catalog: Catalog, source: LocatedYaml) -> None:
    for fact_name, fact in catalog.facts.items():
        for index, dim in enumerate(fact.dimensions):
            if dim not in catalog.dimensions:
                raise ConfigError(
                    f"fact '{fact_name}' lists unknown dimension '{dim}' — {suggest(dim, list(catalog.dimensions))}",
                    file=source.path,
                    line=source.line_of(("facts", fact_name, "dimensions", index)),
                    key=f"facts.{fact_name}.dimensions",
                    fix="declare it under 'dimensions:' or fix the name",
                )
        _check_fact_quality(fact_name, fact, catalog, source)
    for name, measure in catalog.measures.items():
        if measure.fact not in catalog.facts:
            raise ConfigError(
                f"measure '{name}' uses unknown fact '{measure.fact}' — {suggest(measure.fact, list(catalog.facts))}",
                file=source.path,
                line=source.line_of(("measures", name, "fact")),
                key=f"measures.{name}.fact",
                fix="declare the fact under 'facts:' or fix the name",
            )
    for name, metric in catalog.metrics.items():
        for role, measure in _measure_roles(metric):
            if measure not in catalog.measures:
                raise ConfigError(
                    f"metric '{name}' refers to unknown measure '{measure}' — {suggest(measure, list(catalog.measures))}",
                    file=source.path,
                    line=source.line_of(("metrics", name, role)),
                    key=f"metrics.{name}.{role}",
                    fix="define the measure under 'measures:' or fix the name",
                )
        if isinstance(metric, MeanMetric):
            _check_mean_consistency(name, metric, catalog, source)


def _check_fact_quality(name: str, fact: FactDef, catalog: Catalog, source: LocatedYaml) -> None:
    """Required columns must be the fact's dimensions; check names must not shadow built-ins."""
    for index, dim in enumerate(fact.quality.required):
        if dim not in fact.dimensions:
            raise ConfigError(
                f"fact '{name}' requires '{dim}', which is not one of its dimensions — "
                f"{suggest(dim, fact.dimensions)}",
                file=source.path,
                line=source.line_of(("facts", name, "quality", "required", index)),
                key=f"facts.{name}.quality.required",
                fix="list dimensions of this fact (NULL keys are checked via 'key:')",
            )
    builtin = {ROWS_COUNTER, *(f"null_{c}" for c in fact.null_columns())}
    for index, check in enumerate(fact.checks):
        if check.name in builtin or check.name in BUILTIN_SEVERITY:
            raise ConfigError(
                f"check name '{check.name}' of fact '{name}' is reserved for a built-in check",
                file=source.path,
                line=source.line_of(("facts", name, "checks", index, "name")),
                key=f"facts.{name}.checks",
                fix="rename the check",
            )


def _measure_roles(metric: MetricDef) -> list[tuple[str, str]]:
    if isinstance(metric, TotalMetric):
        return [("measure", metric.measure)]
    if isinstance(metric, RatioMetric):
        return [("numerator", metric.numerator), ("denominator", metric.denominator)]
    return [("sum", metric.sum), ("count", metric.count), ("sum_squares", metric.sum_squares)]


def _check_mean_consistency(
    name: str, metric: MeanMetric, catalog: Catalog, source: LocatedYaml
) -> None:
    """A mean's sum, count and sum of squares must describe the same rows, or tests on it are wrong."""
    total, count, squares = (
        catalog.measures[m] for m in (metric.sum, metric.count, metric.sum_squares)
    )
    problems = []
    if total.agg != "sum" or squares.agg != "sum_squares" or count.agg != "count":
        problems.append(
            "'sum' must be a sum, 'count' a count and 'sum_squares' a sum_squares measure"
        )
    if total.column != squares.column:
        problems.append("'sum' and 'sum_squares' must add up the same column")
    if not (
        total.fact == count.fact == squares.fact and total.filter == count.filter == squares.filter
    ):
        problems.append("all three measures must come from the same fact with the same filter")
    if problems:
        raise ConfigError(
            f"mean metric '{name}' is inconsistent: {'; '.join(problems)}",
            file=source.path,
            line=source.line_of(("metrics", name)),
            key=f"metrics.{name}",
            fix="point sum, count and sum_squares at measures over the same rows",
        )


def load_sources(path: Path, catalog: Catalog | None = None) -> SourcesConfig:
    source = load_yaml(path)
    sources = validate_model(SourcesConfig, source)
    if catalog is not None:
        for fact in catalog.facts:
            if fact not in sources.facts:
                raise ConfigError(
                    f"no source for fact '{fact}' that the catalog defines",
                    file=path,
                    line=source.line_of(("facts",)),
                    key="facts",
                    fix=f"add '{fact}: {{path: ...}}' under 'facts:'",
                )
    return sources


def _resolve_relative(base: Path, value: str) -> Path:
    return (base.parent / value).resolve()


def load_report(path: str | Path) -> ResolvedReport:
    """Load a report config and everything it names; raise :class:`ConfigError` at the first problem."""
    path = Path(path)
    source = load_yaml(path)
    config = validate_model(ReportConfig, source)
    catalog_path = _existing(path, source, "catalog", config.catalog)
    sources_path = _existing(path, source, "sources", config.sources)
    brand_path = _existing(path, source, "brand", config.brand)
    catalog = load_catalog(catalog_path)
    sources = load_sources(sources_path, catalog)
    brand = load_brand(brand_path)
    metrics = _resolve_metrics(config, catalog, source)
    _check_insights(config, catalog, source)
    _check_audiences(config, catalog, source)
    report_id = config.id or path.stem
    return ResolvedReport(
        report_id,
        path.resolve(),
        config,
        catalog,
        catalog_path,
        sources,
        sources_path,
        brand,
        metrics,
    )


def _existing(path: Path, source: LocatedYaml, key: str, value: str) -> Path:
    resolved = _resolve_relative(path, value)
    if not resolved.is_file():
        raise ConfigError(
            f"{key} file '{value}' not found (resolved to {resolved})",
            file=path,
            line=source.line_of((key,)),
            key=key,
            fix="paths are relative to the report file's folder",
        )
    return resolved


def _resolve_metrics(
    config: ReportConfig, catalog: Catalog, source: LocatedYaml
) -> tuple[MetricChoice, ...]:
    resolved = []
    for index, choice in enumerate(config.metric_choices()):
        if choice.metric not in catalog.metrics:
            raise ConfigError(
                f"unknown metric '{choice.metric}' — {suggest(choice.metric, list(catalog.metrics))}",
                file=source.path,
                line=source.line_of(("metrics", index)),
                key=f"metrics[{index}]",
                fix="use a metric defined in the catalog (`reportgen metrics` lists them)",
            )
        explicit = choice.breakdowns is not None
        wanted = choice.breakdowns if explicit else config.breakdowns
        key_path = ("metrics", index, "breakdowns") if explicit else ("breakdowns",)
        for pos, dim in enumerate(wanted):
            if dim not in catalog.dimensions:
                raise ConfigError(
                    f"unknown dimension '{dim}' — {suggest(dim, list(catalog.dimensions))}",
                    file=source.path,
                    line=source.line_of((*key_path, pos)),
                    key=".".join(map(str, key_path)),
                    fix="use a dimension declared in the catalog",
                )
        available = [d for d in wanted if d in breakdown_dimensions(catalog, choice.metric)]
        if explicit and len(available) < len(wanted):
            missing = sorted(set(wanted) - set(available))
            raise ConfigError(
                f"metric '{choice.metric}' cannot be broken down by {', '.join(missing)}: "
                "not every fact it uses has that dimension",
                file=source.path,
                line=source.line_of(key_path),
                key=".".join(map(str, key_path)),
                fix=f"choose from: {', '.join(breakdown_dimensions(catalog, choice.metric)) or 'none'}",
            )
        resolved.append(MetricChoice(metric=choice.metric, breakdowns=available))
    return tuple(resolved)


def breakdown_dimensions(catalog: Catalog, metric_name: str) -> list[str]:
    """Dimensions shared by every fact the metric's measures come from."""
    metric = catalog.metrics[metric_name]
    facts = {catalog.measures[m].fact for _, m in _measure_roles(metric)}
    common = None
    for fact in facts:
        dims = set(catalog.facts[fact].dimensions)
        common = dims if common is None else common & dims
    return [d for d in catalog.dimensions if d in (common or set())]


def _check_insights(config: ReportConfig, catalog: Catalog, source: LocatedYaml) -> None:
    insights = config.insights
    dims = [
        ("anomalies", insights.anomalies.dimensions),
        ("decomposition", insights.decomposition.dimensions),
    ]
    for part, names in dims:
        for pos, dim in enumerate(names or ()):
            if dim not in catalog.dimensions:
                raise ConfigError(
                    f"unknown dimension '{dim}' — {suggest(dim, list(catalog.dimensions))}",
                    file=source.path,
                    line=source.line_of(("insights", part, "dimensions", pos)),
                    key=f"insights.{part}.dimensions",
                    fix="use a dimension declared in the catalog",
                )
    deep = insights.deep_dive
    for part, dim in [
        ("unit", deep.unit),
        *[("logit", d) for d in (deep.logit.by if deep.logit else ())],
    ]:
        if dim not in catalog.dimensions:
            raise ConfigError(
                f"unknown dimension '{dim}' — {suggest(dim, list(catalog.dimensions))}",
                file=source.path,
                line=source.line_of(("insights", "deep_dive", part)),
                key=f"insights.deep_dive.{part}",
                fix="use a dimension declared in the catalog",
            )
    if deep.logit is not None:
        for part in ("successes", "trials"):
            measure = getattr(deep.logit, part)
            if measure not in catalog.measures or catalog.measures[measure].agg != "count":
                raise ConfigError(
                    f"deep_dive.logit.{part} '{measure}' must be a count measure — "
                    f"{suggest(measure, list(catalog.measures))}",
                    file=source.path,
                    line=source.line_of(("insights", "deep_dive", "logit", part)),
                    key=f"insights.deep_dive.logit.{part}",
                    fix="name a measure with agg: count (e.g. overturns out of appeals)",
                )
    chosen = {c.metric for c in config.metric_choices()}
    for pos, name in enumerate(insights.decomposition.metrics or ()):
        if name not in chosen:
            raise ConfigError(
                f"decomposition metric '{name}' is not one of the report's metrics — "
                f"{suggest(name, sorted(chosen))}",
                file=source.path,
                line=source.line_of(("insights", "decomposition", "metrics", pos)),
                key="insights.decomposition.metrics",
                fix="list it under 'metrics:' too, or remove it here",
            )


def _check_audiences(config: ReportConfig, catalog: Catalog, source: LocatedYaml) -> None:
    chosen = [c.metric for c in config.metric_choices()]
    names: set[str] = set()
    key = "audiences" if config.audiences else "audience"
    for index, audience in enumerate(config.audience_list()):
        loc = (key, index) if config.audiences else (key,)

        def fail(message: str, part: str, fix: str, loc=loc) -> ConfigError:
            return ConfigError(
                message,
                file=source.path,
                line=source.line_of((*loc, part)),
                key=".".join(map(str, (*loc, part))),
                fix=fix,
            )

        if audience.name in names:
            raise fail(
                f"audience name '{audience.name}' is used twice",
                "name",
                "give each audience its own name",
            )
        names.add(audience.name)
        for dim in (*audience.filter, *audience.hidden_dimensions):
            if dim not in catalog.dimensions:
                part = "filter" if dim in audience.filter else "hidden_dimensions"
                raise fail(
                    f"unknown dimension '{dim}' — {suggest(dim, list(catalog.dimensions))}",
                    part,
                    "use a dimension declared in the catalog",
                )
        for name in audience.metrics or ():
            if name not in chosen:
                raise fail(
                    f"audience metric '{name}' is not one of the report's metrics — {suggest(name, chosen)}",
                    "metrics",
                    "list it under the report's 'metrics:' too, or remove it here",
                )
