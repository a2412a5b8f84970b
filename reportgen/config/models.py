"""Typed, immutable config models. Unknown keys are errors, never ignored."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

import sqlglot
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from sqlglot.errors import ParseError

from reportgen.config import formula as _formula
from reportgen.config.addresses import EmailAddress, Invalid
from reportgen.config.delivery import AlertRule, DeliveryConfig, ScheduleConfig, check_timezone
from reportgen.document import ValueFormat

IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_sql_condition(text: str) -> str:
    """Parse a filter/check condition as DuckDB SQL so syntax errors surface at load time."""
    try:
        parsed = sqlglot.parse_one(text, read="duckdb")
    except ParseError as exc:
        first = exc.errors[0]["description"] if exc.errors else str(exc)
        raise ValueError(f"not a valid SQL condition: {first}") from None
    if isinstance(parsed, sqlglot.exp.Query):
        raise ValueError("must be a condition such as \"action = 'remove'\", not a query")
    return text


class CheckDef(_Model):
    """A data-quality rule: rows matching ``when`` are counted in the same scan as the cube."""

    name: str
    when: str
    severity: Literal["error", "warning"] = "error"
    description: str = ""

    @field_validator("when")
    @classmethod
    def _when_is_sql(cls, value: str) -> str:
        return check_sql_condition(value)

    @field_validator("severity", mode="before")
    @classmethod
    def _warn_alias(cls, value: object) -> object:
        return _severity(value)


Severity = Literal["error", "warning", "off"]
TypeFamily = Literal["timestamp", "date", "number", "boolean", "text", "any"]

#: The gate's built-in checks and their default severities (``quality.severity`` overrides).
BUILTIN_SEVERITY: dict[str, Severity] = {
    "schema": "error",  # a declared/derived column missing or of the wrong type family
    "null_keys": "error",  # time column, key or a required dimension is NULL
    "duplicate_keys": "error",  # the fact's key occurs more than once in the shown window
    "future_timestamps": "error",  # dated after the build's "now" (local day)
    "outside_period": "error",  # dated before ``not_before`` (epoch/sentinel dates)
    "partial_days": "warning",  # a shown day far below its weekday norm, or missing
    # defaults every new dataset gets (reportgen.data.default_checks): a NULL in a dimension the
    # report breaks down by, a negative value in a column a `sum` measure adds up
    "null_dimensions": "warning",
    "negative_values": "warning",
}


def _severity(value: object) -> object:
    """``warn`` is accepted for ``warning`` (what people type); YAML reads a bare ``off`` as false."""
    if value is False:
        return "off"
    return "warning" if value == "warn" else value


class PartialDaysConfig(_Model):
    """A shown day whose volume is below ``below`` × the median of the same weekday before."""

    below: float = Field(default=0.5, gt=0, lt=1)
    weeks: int = Field(default=4, ge=2, le=26)  # how many previous same weekdays form the norm


class QualityConfig(_Model):
    """The built-in data-quality checks of one fact: what to check and how severe a failure is."""

    # one row per value, e.g. decision_id: duplicates, example ids; or the columns that together
    # identify a row, e.g. [day, site, queue] for a snapshot (a duplicate would double-count it)
    key: str | list[str] | None = None
    required: list[str] = Field(default_factory=list)  # dimensions that must not be NULL
    columns: dict[str, TypeFamily] = Field(default_factory=dict)  # declared types (override)
    not_before: date = date(2000, 1, 1)  # earlier timestamps are sentinels (1970-01-01), not data
    # duplicate keys are looked for in the built period (cheap: one period's rows) or in every
    # trailing period the report shows (each build re-reads ~13 periods' keys)
    duplicates_in: Literal["period", "trailing"] = "period"
    severity: dict[str, Severity] = Field(default_factory=dict)
    partial_days: PartialDaysConfig = PartialDaysConfig()
    # summed columns that may be negative by meaning (a net adjustment, a balance): the default
    # negative_values check leaves them alone
    signed: list[str] = Field(default_factory=list)

    @field_validator("severity", mode="before")
    @classmethod
    def _known_checks(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(BUILTIN_SEVERITY))
        if unknown:
            raise ValueError(
                f"unknown built-in check(s) {', '.join(unknown)}; "
                f"known: {', '.join(BUILTIN_SEVERITY)}"
            )
        return {k: _severity(v) for k, v in value.items()}

    def severity_of(self, check: str) -> Severity:
        return self.severity.get(check, BUILTIN_SEVERITY[check])

    @property
    def key_columns(self) -> list[str]:
        if self.key is None:
            return []
        return [self.key] if isinstance(self.key, str) else list(self.key)

    @property
    def key_label(self) -> str:
        """How messages name the key: ``decision_id`` or ``(day, site, queue)``."""
        columns = self.key_columns
        return columns[0] if len(columns) == 1 else f"({', '.join(columns)})"

    @property
    def example_key(self) -> str | None:
        """The single key column whose values identify example rows; None for composite keys."""
        return self.key if isinstance(self.key, str) else None


class RefreshConfig(_Model):
    """How a cached build sees a fact's closed days change (see :mod:`reportgen.data.freshness`).

    Files need nothing: their stamps and Parquet statistics say which days
    changed. A table has no modification time, so every build rescans its last
    ``restate_days`` closed days (default 35 for tables, 0 for files), and a
    per-day ``COUNT(*)`` — with ``MAX(change_column)`` when one is named — finds
    older days whose rows were added, deleted or updated.
    """

    restate_days: int | None = Field(default=None, ge=0, le=3660)
    change_column: str | None = None  # e.g. updated_at: stamped when a row is written or updated


class FactDef(_Model):
    time_column: str
    time_type: Literal["timestamp", "date"] = "timestamp"
    dimensions: list[str] = Field(default_factory=list)
    checks: list[CheckDef] = Field(default_factory=list)
    quality: QualityConfig = QualityConfig()
    refresh: RefreshConfig = RefreshConfig()

    def counters(self) -> dict[str, str | None]:
        """Row counts the cube's scan adds per (day × dimensions): ``name → condition``.

        The catalog's checks, plus the built-in ones the gate evaluates from the
        cube without another scan: ``rows`` (volume, for partial days) and a NULL
        count for the key and each required dimension. ``None`` counts every row.
        """
        counters: dict[str, str | None] = {c.name: c.when for c in self.checks}
        counters[ROWS_COUNTER] = None
        for column in self.null_columns():
            counters[f"null_{column}"] = f"{column} IS NULL"
        return counters

    def null_columns(self) -> list[str]:
        """Columns besides the time column that must never be NULL (key, required dimensions)."""
        # the time column is not counted here: rows without it are in no day (the probe counts them)
        key = [c for c in self.quality.key_columns if c != self.time_column]
        return list(dict.fromkeys([*key, *self.quality.required]))


#: The volume counter every main scan carries (COUNT(*) per day × dimensions).
ROWS_COUNTER = "rows"


class DimensionDef(_Model):
    label: str
    description: str = ""
    # identifies a person (e.g. moderator_id): hidden from every audience unless it sets
    # show_individuals, and then shown only as a keyed pseudonym
    personal: bool = False


class MeasureDef(_Model):
    """An additive aggregate computed in the SQL engine.

    ``agg: last`` is the semi-additive case: a *stock* such as a queue's
    pending items, read from a daily snapshot fact. The cube sums the column
    per day (it adds up across queues, sites and regions at one moment), but a
    period does not add its days up: it takes the value of its last day with
    data — the period-end snapshot (see :func:`reportgen.figures.measure_totals`).

    ``agg: sketch`` is a log-bucket histogram of ``value`` (a SQL expression in
    DuckDB syntax, or a ``column``) with relative accuracy ``relative_accuracy``:
    counts per bucket add up across days and segments like any count, and a
    ``quantile`` metric reads its quantiles (see :mod:`reportgen.semantics.sketch`).
    """

    fact: str
    agg: Literal["count", "sum", "sum_squares", "last", "sketch"]
    column: str | None = None
    value: str | None = None  # sketch: the SQL expression whose distribution is kept
    relative_accuracy: float | None = Field(default=None, gt=0, le=0.1)  # sketch: α
    filter: str | None = None
    time_column: str | None = None  # overrides the fact's time column (e.g. inflow by enqueue time)
    description: str = ""

    @field_validator("filter")
    @classmethod
    def _filter_is_sql(cls, value: str | None) -> str | None:
        return None if value is None else check_sql_condition(value)

    @field_validator("value")
    @classmethod
    def _value_is_sql(cls, value: str | None) -> str | None:
        return None if value is None else check_sql_condition(value)

    @property
    def alpha(self) -> float:
        """A sketch's relative accuracy (1 % unless the catalog says otherwise)."""
        return self.relative_accuracy or DEFAULT_RELATIVE_ACCURACY

    @property
    def is_stock(self) -> bool:
        """A level at a moment (period value = last day's), not a flow (period value = Σ days)."""
        return self.agg == "last"

    @model_validator(mode="after")
    def _column_matches_agg(self) -> MeasureDef:
        if self.agg == "sketch":
            if bool(self.column) == bool(self.value):
                raise ValueError(
                    "agg 'sketch' needs exactly one of 'column' (a numeric column) or 'value' "
                    "(a SQL expression, e.g. date_diff('microsecond', enqueued_at, decided_at) "
                    "/ 3600e6 for hours)"
                )
            return self
        if self.value or self.relative_accuracy is not None:
            raise ValueError(
                "'value' and 'relative_accuracy' belong to agg 'sketch' (a histogram for "
                "quantile metrics); other aggregations take a 'column'"
            )
        if self.agg in ("sum", "sum_squares", "last") and not self.column:
            raise ValueError(f"agg '{self.agg}' needs 'column': the fact column to add up")
        if self.agg == "last" and self.time_column:
            raise ValueError(
                "agg 'last' reads each day's snapshot on its fact's own time column and takes "
                "no 'time_column'; remove it, or use agg 'sum' for a flow counted by another time"
            )
        if self.agg == "count" and self.column:
            raise ValueError(
                "agg 'count' counts rows and takes no 'column'; use a 'filter' to count some rows"
            )
        return self


#: A sketch's relative accuracy when the catalog gives none: quantiles within 1 %.
DEFAULT_RELATIVE_ACCURACY = 0.01

Direction = Literal["higher_is_better", "lower_is_better", "neutral"]


DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_HOURS = {"h": 1, "d": 24, "w": 24 * 7}


class Maturity(_Model):
    """How long a period's figure keeps changing after the period ends (late data).

    Appeals arrive weeks after the decision they overturn, QA verdicts days
    after the decision they judge: a period younger than ``after`` (counted from
    its last day to the data's last complete day) is *provisional*. ``reason``
    is what the report says ("provisional — appeals still arriving") and
    ``cause`` what a restatement of such a figure is put down to ("late appeals").
    """

    after: str  # "14d", "2w", "36h"
    reason: str = "late data still arriving"
    cause: str = "late data"

    @field_validator("after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> str:
        if not isinstance(value, str) or not DURATION.match(value):
            raise ValueError(
                f"'{value}' is not a duration; write a whole number of hours, days or weeks, "
                "e.g. 36h, 14d or 2w"
            )
        return value.strip()

    @property
    def days(self) -> int:
        """Whole days after the period's last day until it is final (hours round up)."""
        match = DURATION.match(self.after)
        assert match is not None
        hours = int(match[1]) * _HOURS[match[2]]
        return -(-hours // 24)


#: What editors validate ``matures_after`` against: the shorthand string or the mapping.
_MATURITY_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": DURATION.pattern, "examples": ["14d", "2w", "36h"]},
        Maturity.model_json_schema(),
        {"type": "null"},
    ],
    "default": None,
}


class _MetricBase(_Model):
    label: str
    format: ValueFormat
    direction: Direction
    description: str
    owner: str = "unassigned"  # accountable team or person: on the metric's tiles and stories
    unit: str | None = None
    decimals: int | None = Field(default=None, ge=0, le=6)
    # still maturing: "14d", or {after: 14d, reason: appeals still arriving, cause: late appeals}
    matures_after: Annotated[Maturity | None, WithJsonSchema(_MATURITY_SCHEMA)] = None

    @field_validator("matures_after", mode="before")
    @classmethod
    def _maturity_shorthand(cls, value: object) -> object:
        return {"after": value} if isinstance(value, str | int) else value


class TotalMetric(_MetricBase):
    type: Literal["total"]
    measure: str

    @property
    def measures(self) -> tuple[str, ...]:
        return (self.measure,)


class RatioMetric(_MetricBase):
    type: Literal["ratio", "proportion"]
    numerator: str
    denominator: str
    scale: float = 1.0

    @property
    def measures(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator)


class MeanMetric(_MetricBase):
    type: Literal["mean"]
    sum: str
    count: str
    sum_squares: str

    @property
    def measures(self) -> tuple[str, ...]:
        return (self.sum, self.count, self.sum_squares)


class DerivedMetric(_MetricBase):
    """Arithmetic over measures and other metrics, evaluated on summed measures.

    ``formula`` allows + - * /, parentheses, numbers, measure names, metric
    names and ``nullif(x, 0)``; e.g. ``1000 * appeals / nullif(decisions, 0)``.
    A metric name is replaced by its definition (a ratio by numerator /
    denominator × scale), and the result is computed per period and per
    segment from Σ of each measure, never as an average of per-row or
    per-segment ratios. A division by anything that can be zero (every count
    or sum can, in a segment without rows) must be written ``nullif(x, 0)``;
    such a segment then has no value.

    How the analyses treat it:

    * significance: no test (``test_kind`` "none"): a formula mixes several sums
      and none of the exact tests fits its sampling distribution; to get a
      p-value, define a plain ratio/proportion metric instead;
    * LMDI / drivers: decomposed (mix and rate effects, exact) when the formula
      is a quotient ``k · N / D`` whose N and D are sums/differences of measures
      (:attr:`quotient`); any other shape is not decomposed;
    * anomalies: history and peer checks run on its values; its volume (for
      ``min_volume`` and shares) is the divisor D of a quotient, else the value;
      noise is unknown, so only the robust z-score applies; share anomalies
      only when D is a single measure;
    * deep dive: quotients take part like ratio metrics (value and volume per
      unit); other shapes are left out like totals; no Tukey test (not a mean);
    * figures: ``type`` "derived" and ``formula``; ``stats`` carry k·N and D of a
      quotient as numerator/denominator, else the value as ``total``;
    * targets, alerts and follow-up items work on its values like any metric's.

    The catalog loader resolves the formula (:meth:`resolve`); until then it
    knows no measures.
    """

    type: Literal["derived"]
    formula: str
    _expression: _formula.Expr | None = PrivateAttr(default=None)

    @field_validator("formula")
    @classmethod
    def _formula_parses(cls, value: str) -> str:
        _formula.parse_formula(value)
        return value

    def resolve(self, expression: _formula.Expr) -> None:
        """Attach the formula resolved to measures (done once, by the catalog loader)."""
        self._expression = expression

    @property
    def expression(self) -> _formula.Expr:
        if self._expression is None:
            raise RuntimeError(
                f"derived metric '{self.label}' is not resolved: load the catalog with load_catalog()"
            )
        return self._expression

    @property
    def quotient(self) -> _formula.Quotient | None:
        """``k · N / D`` with additive N and D, or None when the formula has another shape."""
        return _formula.as_quotient(self.expression)

    @property
    def measures(self) -> tuple[str, ...]:
        return _formula.measures_in(self.expression)


class QuantileMetric(_MetricBase):
    """The ``q``-quantile of a sketch measure (median: 0.5, p90: 0.9), per period and segment.

    Read from the histogram summed over the period or segment, never from
    per-day or per-segment quantiles, so it is within the sketch's relative
    accuracy α of the exact quantile of the raw rows at every grain.

    How the analyses treat it:

    * significance: a distribution-free quantile test (Mood's test generalised
      to q: rows at or below the pooled q-quantile in each period, compared as
      two proportions) and a binomial order-statistic confidence interval for
      the quantile itself (see :mod:`reportgen.semantics.sketch`);
    * LMDI / drivers: not decomposed — a quantile is not a sum of segment
      contributions; listing one under ``insights.decomposition.metrics`` is a
      config error;
    * anomalies: history and peer checks on its values (robust z only);
    * deep dive: left out (it models ratios of sums);
    * alerts: only at the report's grain (the sketch is counted per report period);
    * figures: ``stats.count`` is the number of rows the quantile is read from.
    """

    type: Literal["quantile"]
    measure: str
    q: float = Field(gt=0, lt=1)

    @property
    def measures(self) -> tuple[str, ...]:
        return (self.measure,)


class RateMetric(_MetricBase):
    """Events per ``per`` units of exposure: appeals per 1,000 decisions, enforcements per
    million views. Σ events ÷ Σ exposure × per, with ``events`` a count, so a Poisson rate
    test applies whatever the exposure is (a count of items or a sum such as views)."""

    type: Literal["rate"]
    events: str
    exposure: str
    per: float = Field(default=1000.0, gt=0)

    @property
    def measures(self) -> tuple[str, ...]:
        return (self.events, self.exposure)

    # the names a ratio of sums reads (a rate is one, with its scale written as "per")
    @property
    def numerator(self) -> str:
        return self.events

    @property
    def denominator(self) -> str:
        return self.exposure

    @property
    def scale(self) -> float:
        return self.per


MetricDef = Annotated[
    TotalMetric | RatioMetric | MeanMetric | DerivedMetric | QuantileMetric | RateMetric,
    Field(discriminator="type"),
]


class Catalog(_Model):
    facts: dict[str, FactDef]
    dimensions: dict[str, DimensionDef]
    measures: dict[str, MeasureDef]
    metrics: dict[str, MetricDef]

    @field_validator("facts", "dimensions", "measures", "metrics")
    @classmethod
    def _identifiers(cls, value: dict) -> dict:
        for name in value:
            if not IDENT.match(name):
                raise ValueError(
                    f"name '{name}' must be lower_snake_case (letters, digits, underscores)"
                )
        return value


class FactSource(_Model):
    """A fact's location: a Parquet/CSV path or glob, or a table on the sources' engine.

    A ``path`` is read by the engine when it can read files (DuckDB, Spark) and by
    embedded DuckDB otherwise, so a warehouse fact and a CSV side table can mix.
    """

    path: str | None = None
    table: str | None = None  # e.g. decisions or analytics.decisions

    @model_validator(mode="after")
    def _one_location(self) -> FactSource:
        if bool(self.path) == bool(self.table):
            raise ValueError("give exactly one of 'path' (Parquet/CSV file or glob) or 'table'")
        return self


class TargetsSource(_Model):
    path: str


class SourcesConfig(_Model):
    """Which engine runs the cube queries, and where each fact lives.

    Secrets never live here: ``url``, ``database`` and ``options`` values may
    name environment variables as ``${PGPASSWORD}``; they are read when the
    engine connects, and a URL with a literal password is rejected.
    """

    engine: Literal["duckdb", "sqlalchemy", "spark"] = "duckdb"
    url: str | None = None  # sqlalchemy: a SQLAlchemy URL; spark: master (local[2], spark://h:7077)
    database: str | None = None  # duckdb: a database file holding the facts' tables
    dialect: str | None = None  # sqlglot dialect, when the URL's backend name is not one
    options: dict[str, str] = Field(default_factory=dict)  # spark: Spark SQL conf entries
    cache_dir: str | None = None  # cube cache; default .cache/reportgen beside this file's folder
    facts: dict[str, FactSource]
    targets: TargetsSource | None = None

    @model_validator(mode="after")
    def _engine_fields(self) -> SourcesConfig:
        # a model-level check, so the error never echoes the offending URL (and its secret)
        if self.url and self._literal_secret(self.url):
            raise ValueError(
                "'url' holds a literal password; write it as an environment variable "
                "reference such as ${PGPASSWORD} and export that variable where the build runs"
            )
        if self.engine == "sqlalchemy" and not self.url:
            raise ValueError(
                "engine 'sqlalchemy' needs 'url', e.g. postgresql+psycopg://reporter:${PGPASSWORD}@host/db"
            )
        if self.engine == "duckdb" and self.url:
            raise ValueError(
                "engine 'duckdb' takes 'database' (a .duckdb file), not 'url'; "
                "use engine 'sqlalchemy' for a server"
            )
        if self.database and self.engine != "duckdb":
            raise ValueError(
                "'database' is the DuckDB database file; name the database in the 'url'"
            )
        if self.options and self.engine != "spark":
            raise ValueError("'options' are Spark conf entries; only engine 'spark' takes them")
        return self

    @staticmethod
    def _literal_secret(url: str) -> bool:
        """True when the URL carries a password or token that is not a ``${VAR}`` reference."""
        found = re.match(r"^[^:/]+://[^:@/]*:(?P<secret>[^@/]*)@", url)
        query = re.search(r"[?&](password|pwd|token|secret)=(?P<secret>[^&]*)", url, re.I)
        secrets = [m["secret"] for m in (found, query) if m]
        return any(not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", s) for s in secrets)


class PeriodConfig(_Model):
    grain: Literal["day", "week", "month", "quarter"] = "week"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return check_timezone(value)


class MetricChoice(_Model):
    """A metric in a report, optionally with its own breakdowns."""

    metric: str
    breakdowns: list[str] | None = None


SectionName = Literal[
    "summary",
    "anomalies",
    "follow_up",
    "decomposition",
    "significance",
    "metrics",
    "deep_dive",
    "outlook",
    "definitions",
]

AUDIENCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
#: a report id names the output folder and goes into mail subjects: a safe slug
REPORT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
REPORT_ID_FIX = (
    "use letters, digits, '_', '-' and '.' (no '..', '/' or spaces), "
    "e.g. id: weekly_leadership — it names the folder under --out"
)


def check_report_id(value: str) -> str:
    if not REPORT_ID.match(value) or ".." in value:
        raise Invalid(f"report id {value!r} is not a safe name", fix=REPORT_ID_FIX)
    return value


class AudienceConfig(_Model):
    """Who a variant of the report is for, and which rows it may be derived from.

    ``filter`` restricts every figure to the entitled rows *before* anything is
    computed (the cube is filtered, not the output), so a restricted deck holds
    no number, label or chart data derived from other rows.
    """

    name: str = "leadership"
    label: str = "Leadership"
    subtitle: str | None = None  # replaces the report's subtitle for this audience
    detail: Literal["summary", "operational"] = "summary"
    filter: dict[str, str | list[str]] = Field(default_factory=dict)
    hidden_dimensions: list[str] = Field(default_factory=list)
    metrics: list[str] | None = None  # default: every metric of the report
    sections: list[SectionName] | None = None  # default: the report's sections
    recipients: list[EmailAddress] = Field(default_factory=list)
    show_individuals: bool = False  # personal dimensions, pseudonymised ($REPORTGEN_PSEUDONYM_KEY)

    @field_validator("name")
    @classmethod
    def _path_safe(cls, value: str) -> str:
        if not AUDIENCE_NAME.match(value):
            raise ValueError(
                f"audience name '{value}' must be lower-case letters, digits, '-' or '_' "
                "(it names the output folder)"
            )
        return value

    def allowed(self, dimension: str) -> tuple[str, ...] | None:
        """The segments of ``dimension`` this audience is entitled to; None = all."""
        value = self.filter.get(dimension)
        if value is None:
            return None
        return (value,) if isinstance(value, str) else tuple(value)


class AnomalyConfig(_Model):
    """Which segments are checked, and how strict the detector is."""

    dimensions: list[str] | None = None  # default: the report's breakdowns
    history_periods: int = Field(default=13, ge=6, le=104)
    threshold: float = Field(default=3.5, gt=0)  # robust z against the segment's own history
    peer_threshold: float = Field(default=5.0, gt=0)  # against the other segments this period
    min_volume: float = Field(default=30.0, ge=0)  # a segment needs this much weight to be checked
    max_per_metric: int = Field(default=3, ge=1, le=50)
    max_shown: int = Field(
        default=12, ge=1, le=200
    )  # rows in the report's table; all go to figures.json


class DecompositionConfig(_Model):
    """LMDI decomposition of each metric's change by one or two dimensions."""

    metrics: list[str] | None = None  # default: every ratio, proportion and mean metric
    dimensions: list[str] | None = Field(
        default=None, min_length=1, max_length=2
    )  # default: first breakdown
    top: int = Field(default=5, ge=1, le=20)


class RegressionSpec(_Model):
    outcome: str
    predictors: list[str] = Field(min_length=1)
    weighted: bool = True  # WLS by the outcome's volume: big sites count more


class LogitSpec(_Model):
    """A decision outcome as successes out of trials (two count measures) by attributes."""

    successes: str  # measure, e.g. overturns
    trials: str  # measure, e.g. appeals
    by: list[str] = Field(min_length=1)  # dimensions used as predictors
    periods: int = Field(
        default=13, ge=1, le=104
    )  # pooled over the last N periods: outcomes are rare


class DeepDiveConfig(_Model):
    """Relationships and groups across units (sites, teams) for analysts; off for leadership."""

    # the dimension whose segments are compared; default: the report's first breakdown (no
    # breakdown, no deep dive) — never a dimension the user's catalog may not have
    unit: str | None = None
    metrics: list[str] | None = None  # default: the report's ratio and mean metrics
    regression: RegressionSpec | None = None
    logit: LogitSpec | None = None
    clusters: bool = True
    dendrogram: bool = True  # Ward hierarchical clustering of the same profiles, as a dendrogram
    tukey: list[str] = Field(default_factory=list)  # mean metrics compared pairwise across units


class InsightsConfig(_Model):
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    # a segment whose denominator (n) is below this is a "small sample": shown greyed with its n,
    # never ranked as a driver or a headline anomaly, never setting a chart's axis
    small_sample: float = Field(default=30.0, ge=0)
    anomalies: AnomalyConfig = AnomalyConfig()
    decomposition: DecompositionConfig = DecompositionConfig()
    deep_dive: DeepDiveConfig = DeepDiveConfig()


class ExportsConfig(_Model):
    """What the data exports (XLSX workbook, CSV folder) hold beyond the report's own tables.

    ``crossings``: the dimensions crossed with the first export dimension (region × queue
    answers "is Harassment AHT up in every region?"): ``all`` (every other one), ``none``, or
    a list. A crossing multiplies rows (regions × queues × metrics × periods), so one whose
    Breakdowns rows would exceed ``max_crossing_rows`` is left out, and the About sheet says so.
    """

    crossings: Literal["all", "none"] | list[str] = "all"
    max_crossing_rows: int = Field(default=50_000, ge=0)


class ReportConfig(_Model):
    id: str | None = None
    title: str
    subtitle: str = ""
    catalog: str = "../catalog.yaml"
    sources: str = "../sources.yaml"
    brand: str = "../brands/default.yaml"
    period: PeriodConfig = PeriodConfig()
    metrics: list[str | MetricChoice] = Field(min_length=1)
    breakdowns: list[str] = Field(default_factory=list)
    trailing_periods: int = Field(default=13, ge=2, le=60)
    sections: list[SectionName] = Field(
        default_factory=lambda: ["summary", "metrics", "definitions"]
    )
    outputs: list[Literal["pdf", "pptx", "html", "xlsx", "csv"]] = Field(
        default_factory=lambda: ["pdf", "pptx", "html"]
    )
    audience: AudienceConfig = AudienceConfig()  # the single audience when `audiences` is empty
    audiences: list[AudienceConfig] = Field(default_factory=list)

    def audience_list(self) -> list[AudienceConfig]:
        return list(self.audiences) if self.audiences else [self.audience]

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str | None) -> str | None:
        return None if value is None else check_report_id(value)

    insights: InsightsConfig = InsightsConfig()
    exports: ExportsConfig = ExportsConfig()  # workbook and CSV folder: crossings and their limit
    schedule: ScheduleConfig | None = None  # when the scheduler builds and sends it
    delivery: DeliveryConfig | None = None  # channels, owners, SMTP, retries
    alerts: list[AlertRule] = Field(default_factory=list)  # conditions on their own schedules

    def metric_choices(self) -> list[MetricChoice]:
        return [MetricChoice(metric=m) if isinstance(m, str) else m for m in self.metrics]
