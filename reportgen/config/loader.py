"""Load a report config with everything it refers to, and cross-check the references.

Single-file validation is pydantic's job; this module checks what spans
files (a report's metric must exist in the catalog, a measure's fact must
exist in the sources) and reports each problem at the line that caused it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from reportgen.config import formula as fm
from reportgen.config._yaml import LocatedYaml, load_yaml, validate_model
from reportgen.config.brand import load_brand
from reportgen.config.models import (
    BUILTIN_SEVERITY,
    ROWS_COUNTER,
    Catalog,
    DerivedMetric,
    FactDef,
    MeanMetric,
    MetricChoice,
    MetricDef,
    ReportConfig,
    SourcesConfig,
)
from reportgen.config.templates import DEFAULT_ROOT as DEFAULT_TEMPLATES
from reportgen.config.templates import check_template_override
from reportgen.document import Brand
from reportgen.errors import ConfigError
from reportgen.semantics import kind_of
from reportgen.semantics.aggregations import aggregation_of


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
    # what this edition leaves out and why ("Throughput is not available in this edition: …"),
    # set when an audience's filter makes a metric unavailable; said in its summary
    edition_notes: tuple[str, ...] = ()

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
            if self.deep_dive_unit is not None:
                seen[self.deep_dive_unit] = None
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
    def deep_dive_unit(self) -> str | None:
        """The deep dive's unit: the configured one, else the first breakdown, else none (off)."""
        configured = self.config.insights.deep_dive.unit
        if configured is not None:
            return configured
        return self.breakdowns[0] if self.breakdowns else None

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

    def unbroken_notes(self, metric: str) -> list[str]:
        """Why a metric lacks a report-level breakdown: "Throughput is not broken down by market:
        staffing has no market." Shown in its section and warned by ``validate``, never silent."""
        explicit = {c.metric for c in self.config.metric_choices() if c.breakdowns is not None}
        if metric not in explicit:
            available = set(self.metric_dimensions(metric))
            facts = sorted(
                {self.catalog.measures[m].fact for _, m in kind_of(self.metric(metric)).roles()}
            )
            notes = []
            for dim in self.config.breakdowns:
                if dim in available:
                    continue
                lacking = [f for f in facts if dim not in self.catalog.facts[f].dimensions]
                label = (
                    self.catalog.dimensions[dim].label.lower()
                    if dim in self.catalog.dimensions
                    else dim
                )
                notes.append(
                    f"{self.metric(metric).label} is not broken down by {label}: "
                    f"{' and '.join(lacking)} {'has' if len(lacking) == 1 else 'have'} no {dim}."
                )
            return notes
        return []

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
    _check_stock_measures(catalog, source)
    for name, metric in catalog.metrics.items():
        if isinstance(metric, DerivedMetric):
            continue  # resolved below, once every plain metric is known to be sound
        kind = kind_of(metric)
        for role, measure in kind.roles():
            if measure not in catalog.measures:
                raise ConfigError(
                    f"metric '{name}' refers to unknown measure '{measure}' — {suggest(measure, list(catalog.measures))}",
                    file=source.path,
                    line=source.line_of(("metrics", name, role)),
                    key=f"metrics.{name}.{role}",
                    fix="define the measure under 'measures:' or fix the name",
                )
        kind.validate(name, catalog, source)
        _check_sketch_use(name, metric, catalog, source)
    _resolve_derived(catalog, source)


def _check_stock_measures(catalog: Catalog, source: LocatedYaml) -> None:
    """``agg: last`` needs a daily snapshot fact and a numeric column.

    The period value of a stock is its last day's sum, so a fact must hold
    one snapshot per day: on a timestamp fact several snapshots of one day
    would add up to a number that was never in the queue.
    """
    for name, measure in catalog.measures.items():
        if not measure.is_stock or measure.fact not in catalog.facts:
            continue
        fact = catalog.facts[measure.fact]
        if fact.time_type != "date":
            raise ConfigError(
                f"measure '{name}' (agg 'last') is on fact '{measure.fact}', whose time column "
                f"'{fact.time_column}' is a timestamp, not a snapshot day",
                file=source.path,
                line=source.line_of(("measures", name, "agg")),
                key=f"measures.{name}.agg",
                fix=f"read a stock from a fact with one snapshot row per day and dimensions "
                f"(time_type: date, e.g. queue_snapshots.day); for a flow on "
                f"'{measure.fact}' use agg 'sum' or 'count'",
            )
        declared = fact.quality.columns.get(measure.column or "")
        if declared not in (None, "number", "any"):
            raise ConfigError(
                f"measure '{name}' (agg 'last') adds up column '{measure.column}', which fact "
                f"'{measure.fact}' declares as {declared}: a snapshot must be a number that sums "
                "across queues and sites",
                file=source.path,
                line=source.line_of(("measures", name, "column")),
                key=f"measures.{name}.column",
                fix="name a numeric column of counts (e.g. pending_items), or declare it "
                f"'number' under facts.{measure.fact}.quality.columns",
            )


def _check_sketch_use(name: str, metric: MetricDef, catalog: Catalog, source: LocatedYaml) -> None:
    """A quantile reads a sketch, and only a quantile can: a histogram has no sum to divide."""
    reads_sketch = kind_of(metric).reads_sketch
    for role, measure in kind_of(metric).roles():
        is_sketch = aggregation_of(catalog.measures[measure]).is_sketch
        if reads_sketch and not is_sketch:
            raise ConfigError(
                f"quantile metric '{name}' needs a sketch measure, and '{measure}' is a "
                f"{catalog.measures[measure].agg} measure",
                file=source.path,
                line=source.line_of(("metrics", name, role)),
                key=f"metrics.{name}.{role}",
                fix="name a measure with agg: sketch and a 'value' (e.g. time_to_action_hours), "
                "or define one: {fact: decisions, agg: sketch, value: <SQL expression>}",
            )
        if not reads_sketch and is_sketch:
            raise ConfigError(
                f"metric '{name}' uses sketch measure '{measure}', which only a quantile metric "
                "can read (a histogram has no sum or count to divide)",
                file=source.path,
                line=source.line_of(("metrics", name, role)),
                key=f"metrics.{name}.{role}",
                fix=f"use type: quantile with measure: {measure} and q: 0.5 (median) or 0.9, "
                "or name a count or sum measure here",
            )


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


# -- derived metrics ---------------------------------------------------------------------------


def _resolve_derived(catalog: Catalog, source: LocatedYaml) -> None:
    """Resolve every derived formula to measures; unknown names, cycles and zero divisors fail."""
    done: dict[str, fm.Expr] = {}

    def fail(name: str, message: str, fix: str) -> ConfigError:
        return ConfigError(
            message,
            file=source.path,
            line=source.line_of(("metrics", name, "formula")),
            key=f"metrics.{name}.formula",
            fix=fix,
        )

    def expand(name: str, chain: tuple[str, ...]) -> fm.Expr:
        metric = catalog.metrics[name]
        if not isinstance(metric, DerivedMetric):
            inlined = kind_of(metric).as_formula()
            assert inlined is not None  # quantiles are refused before they are expanded
            return inlined
        if name in done:
            return done[name]
        if name in chain:
            loop = " → ".join((*chain[chain.index(name) :], name))
            raise fail(
                name,
                f"derived metric '{name}' is circular: {loop}",
                "a formula cannot depend on itself; write one of these metrics in terms of measures",
            )
        tree = fm.parse_formula(metric.formula)  # already validated by the model

        def resolve(ref: str) -> fm.Expr:
            sketch = ref in catalog.measures and aggregation_of(catalog.measures[ref]).is_sketch
            named = catalog.metrics.get(ref)
            if sketch or (named is not None and kind_of(named).reads_sketch):
                raise fail(
                    name,
                    f"formula of metric '{name}' names '{ref}', a quantile or its sketch; "
                    "quantiles do not add up, so no formula can combine them",
                    "use count and sum measures in formulas; show the quantile as its own metric",
                )
            if ref in catalog.measures:
                other = catalog.metrics.get(ref)
                if other is not None and kind_of(other).as_formula() != fm.Ref(ref):
                    raise fail(
                        name,
                        f"'{ref}' in the formula of '{name}' is both a measure and a metric "
                        "with a different definition",
                        f"rename the metric or the measure '{ref}' so the formula is unambiguous",
                    )
                return fm.Ref(ref)
            if ref in catalog.metrics:
                return expand(ref, (*chain, name))
            known = sorted({*catalog.measures, *catalog.metrics})
            raise fail(
                name,
                f"formula of metric '{name}' names '{ref}', which is neither a measure nor a metric "
                f"— {suggest(ref, known)}",
                "use a name defined under 'measures:' or 'metrics:' (`reportgen metrics` lists them)",
            )

        def check_division(node: fm.BinOp, divisor: fm.Expr) -> None:
            if fm.may_be_zero(divisor):
                raise fail(
                    name,
                    f"formula of metric '{name}' divides by '{node.text}', which can be zero "
                    "(a count or sum is zero in any period or segment without rows)",
                    f"write the divisor as nullif({node.text}, 0); periods and segments where it "
                    "is zero will then show no value",
                )

        resolved = fm.substitute(tree, resolve, check_division)
        if not fm.measures_in(resolved):
            raise fail(
                name,
                f"formula of metric '{name}' uses no measure",
                "name at least one measure or metric; a constant is not a metric",
            )
        done[name] = resolved
        return resolved

    for name, metric in catalog.metrics.items():
        if isinstance(metric, DerivedMetric):
            metric.resolve(expand(name, ()))


def load_sources(path: Path, catalog: Catalog | None = None) -> SourcesConfig:
    source = load_yaml(path)
    sources = validate_model(SourcesConfig, source)
    if sources.url and sources.url.split(":", 1)[0].split("+")[0].lower() == "sqlite":
        raise ConfigError(
            "SQLite is not supported: reportgen cuts days in the report's time zone inside the "
            "engine (AT TIME ZONE), which SQLite has no function for, so every time figure "
            "would be wrong or fail",
            file=path,
            line=source.line_of(("url",)),
            key="url",
            fix="export the tables to Parquet or CSV and name them under facts: with path:, or "
            "load them into a DuckDB file (engine: duckdb, database: ops.duckdb)",
        )
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
    brand_path = _brand_file(path, source, config)
    catalog = load_catalog(catalog_path)
    sources = load_sources(sources_path, catalog)
    brand = load_brand(brand_path)
    check_template_override(email=_sends_email(config))
    metrics = _resolve_metrics(config, catalog, source)
    _check_insights(config, catalog, source)
    _check_audiences(config, catalog, source)
    _check_crossings(config, catalog, source)
    _check_deep_dive_metrics(config, catalog, source)
    _check_delivery(config, metrics, source)
    _check_quantile_alerts(config, catalog, source)
    report_id = config.id or _id_from_file_name(path)
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


def _id_from_file_name(path: Path) -> str:
    """A report without ``id:`` is named after its file, which must then be a safe slug too."""
    from reportgen.config.models import REPORT_ID_FIX, check_report_id

    try:
        return check_report_id(path.stem)
    except ValueError as exc:
        raise ConfigError(str(exc), file=path, key="id", fix=REPORT_ID_FIX) from None


def _sends_email(config: ReportConfig) -> bool:
    """Whether building or running this report can render an email template."""
    delivery = config.delivery
    if config.alerts:
        return True
    return delivery is not None and bool(
        delivery.owners or any(c.type == "email" for c in delivery.channels)
    )


#: the brand of a report that names none (and has no ../brands/default.yaml): a new project
#: made by `reportgen init` has no brand folder, and needs none to build
BUILTIN_BRAND = DEFAULT_TEMPLATES / "brand" / "default" / "brand.yaml"


def _brand_file(path: Path, source: LocatedYaml, config: ReportConfig) -> Path:
    """The report's brand file; the built-in brand when it names none and the default is absent."""
    named = isinstance(source.data, dict) and "brand" in source.data
    if not named and not _resolve_relative(path, config.brand).is_file():
        return BUILTIN_BRAND
    return _existing(path, source, "brand", config.brand)


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
    facts = {catalog.measures[m].fact for _, m in kind_of(metric).roles()}
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
        *([("unit", deep.unit)] if deep.unit is not None else []),
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
            if (
                measure not in catalog.measures
                or not aggregation_of(catalog.measures[measure]).counts_rows
            ):
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
        metric = catalog.metrics.get(name)
        refusal = None if metric is None else kind_of(metric).decomposition_refusal(name)
        if refusal is not None:
            why, fix = refusal
            raise ConfigError(
                why,
                file=source.path,
                line=source.line_of(("insights", "decomposition", "metrics", pos)),
                key="insights.decomposition.metrics",
                fix=fix,
            )


def _check_deep_dive_metrics(config: ReportConfig, catalog: Catalog, source: LocatedYaml) -> None:
    """Metric names in the deep dive must be the report's own (they were ignored silently)."""
    deep = config.insights.deep_dive
    chosen = [c.metric for c in config.metric_choices()]
    named: list[tuple[tuple[str | int, ...], str]] = [
        (("metrics", i), m) for i, m in enumerate(deep.metrics or ())
    ]
    if deep.regression is not None:
        named.append((("regression", "outcome"), deep.regression.outcome))
        named += [
            (("regression", "predictors", i), m) for i, m in enumerate(deep.regression.predictors)
        ]
    named += [(("tukey", i), m) for i, m in enumerate(deep.tukey)]
    for loc, name in named:
        where = ("insights", "deep_dive", *loc)
        if name not in chosen:
            raise ConfigError(
                f"deep_dive names metric '{name}', which the report does not show — "
                f"{suggest(name, chosen)}",
                file=source.path,
                line=source.line_of(where),
                key=".".join(map(str, where)),
                fix="use one of the report's metrics, or add it under the report's 'metrics:'",
            )
        if loc[0] == "tukey" and not isinstance(catalog.metrics[name], MeanMetric):
            raise ConfigError(
                f"deep_dive.tukey compares means, and '{name}' is a {catalog.metrics[name].type} metric",
                file=source.path,
                line=source.line_of(where),
                key=".".join(map(str, where)),
                fix="list only mean metrics (such as aht) under 'tukey:'",
            )


def _check_crossings(config: ReportConfig, catalog: Catalog, source: LocatedYaml) -> None:
    """Each dimension ``exports.crossings`` names is one of the catalog's."""
    crossings = config.exports.crossings
    for index, dim in enumerate(crossings if isinstance(crossings, list) else ()):
        if dim not in catalog.dimensions:
            raise ConfigError(
                f"exports.crossings names dimension '{dim}', which the catalog does not define "
                f"— {suggest(dim, list(catalog.dimensions))}",
                file=source.path,
                line=source.line_of(("exports", "crossings", index)),
                key=f"exports.crossings.{index}",
                fix="list dimensions of the catalog (e.g. crossings: [queue]), or write "
                "crossings: all or crossings: none",
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


def _check_quantile_alerts(config: ReportConfig, catalog: Catalog, source: LocatedYaml) -> None:
    """A quantile alert must use the report's grain: its sketch is counted per report period."""
    grain = config.period.grain
    for index, rule in enumerate(config.alerts):
        metric = catalog.metrics.get(rule.metric or "")
        if metric is not None and kind_of(metric).report_grain_only and rule.grain != grain:
            raise ConfigError(
                f"alert '{rule.name}' checks quantile metric '{rule.metric}' per {rule.grain}, "
                f"but its sketch is counted per {grain} (the report's period), and a quantile of "
                "other periods cannot be read from it",
                file=source.path,
                line=source.line_of(("alerts", index, "grain"))
                or source.line_of(("alerts", index)),
                key=f"alerts.{index}.grain",
                fix=f"write grain: {grain} on this alert, or alert on a proportion such as "
                "sla_attainment for daily checks",
            )


def _check_delivery(
    config: ReportConfig, metrics: tuple[MetricChoice, ...], source: LocatedYaml
) -> None:
    """Names that alerts and channels refer to must exist in this report."""

    def fail(loc: tuple[str | int, ...], message: str, fix: str) -> ConfigError:
        return ConfigError(
            message,
            file=source.path,
            line=source.line_of(loc),
            key=".".join(map(str, loc)),
            fix=fix,
        )

    breakdowns = {c.metric: list(c.breakdowns or ()) for c in metrics}
    shown = list(breakdowns)
    audiences = [a.name for a in config.audience_list()]
    seen: set[str] = set()
    for index, rule in enumerate(config.alerts):
        if rule.name in seen:
            raise fail(
                ("alerts", index, "name"),
                f"alert name '{rule.name}' is used twice",
                "give each alert its own name (it keys the alert's state in the run ledger)",
            )
        seen.add(rule.name)
        if rule.metric is not None and rule.metric not in breakdowns:
            raise fail(
                ("alerts", index, "metric"),
                f"alert '{rule.name}' checks metric '{rule.metric}', which the report does not "
                f"show — {suggest(rule.metric, shown)}",
                "use one of the report's metrics, or add it under the report's 'metrics:'",
            )
        if rule.metric is not None and rule.by is not None:
            allowed = breakdowns[rule.metric]
            if rule.by not in allowed:
                hint = suggest(rule.by, allowed) if allowed else "it has no breakdowns"
                raise fail(
                    ("alerts", index, "by"),
                    f"alert '{rule.name}' splits by '{rule.by}', which is not a breakdown of "
                    f"{rule.metric} — {hint}",
                    "use one of the metric's breakdowns, or omit 'by' to check the total",
                )
        for pos, name in enumerate((rule.anomalies.metrics or []) if rule.anomalies else []):
            if name not in breakdowns:
                raise fail(
                    ("alerts", index, "anomalies", "metrics", pos),
                    f"alert '{rule.name}' watches anomalies of metric '{name}', which the report "
                    f"does not show — {suggest(name, shown)}",
                    "use one of the report's metrics (or drop 'metrics:' to watch them all)",
                )
    channels = config.delivery.channels if config.delivery else []
    for index, channel in enumerate(channels):
        for pos, name in enumerate(channel.audiences or ()):
            if name not in audiences:
                raise fail(
                    ("delivery", "channels", index, "audiences", pos),
                    f"channel '{channel.name}' names audience '{name}', which the report does "
                    f"not define — {suggest(name, audiences)}",
                    "use the 'name:' of one of the report's audiences",
                )


def check_source_files(report: ResolvedReport) -> None:
    """Every local data file the report reads exists: else one error at the sources' line.

    Run at the start of a build (``reportgen build``), not by ``load_report``: a config
    is valid before its data has been generated or copied in.
    """
    import glob
    import os

    source = load_yaml(report.sources_path)
    base = report.sources_path.parent
    measures = [m for c in report.metrics for m in report.metric(c.metric).measures]
    facts = dict.fromkeys(report.catalog.measures[m].fact for m in measures)
    wanted = [(("facts", f, "path"), report.sources.facts[f].path) for f in facts]
    if report.sources.targets is not None:
        wanted.append((("targets", "path"), report.sources.targets.path))
    for loc, path in wanted:
        if path is None or "://" in path:
            continue  # a table, or a remote URL the engine reads itself
        pattern = os.path.normpath(path if Path(path).is_absolute() else str(base / path))
        if not glob.glob(pattern):
            raise ConfigError(
                f"no data file matches '{path}' (looked for {pattern})",
                file=report.sources_path,
                line=source.line_of(loc),
                key=".".join(loc),
                fix="run `reportgen demo-data` for the demo data, or correct the path "
                "(relative paths start at the sources file's folder)",
            )
