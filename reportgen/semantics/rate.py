"""A rate: events per ``per`` units of exposure (appeals per 1,000 decisions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from reportgen.errors import ConfigError
from reportgen.semantics.aggregations import aggregation_of
from reportgen.semantics.base import TestKind
from reportgen.semantics.ratio import Ratio

if TYPE_CHECKING:
    from reportgen.config._yaml import LocatedYaml
    from reportgen.config.models import Catalog, MeasureDef, RateMetric


class Rate(Ratio):
    """A ratio of sums whose numerator counts events: always tested as a Poisson rate."""

    types = ("rate",)
    metric: RateMetric  # type: ignore[assignment]

    def roles(self) -> list[tuple[str, str]]:
        return [("events", self.metric.events), ("exposure", self.metric.exposure)]

    def test_kind(self, measures: Mapping[str, MeasureDef]) -> TestKind:
        return "rate"

    def definition(self, measures: Mapping[str, MeasureDef]) -> str:
        m = self.metric
        per = f"{int(m.per):,}" if m.per == int(m.per) else f"{m.per:g}"
        return f"Σ {m.events} per {per} of Σ {m.exposure}"

    def validate(self, name: str, catalog: Catalog, source: LocatedYaml) -> None:
        """The Poisson test counts events: a summed quantity has no such sampling error."""
        events = catalog.measures[self.metric.events]
        if not aggregation_of(events).counts_rows:
            raise ConfigError(
                f"rate metric '{name}' counts events with '{self.metric.events}', which is a "
                f"{events.agg} measure, not a count",
                file=source.path,
                line=source.line_of(("metrics", name, "events")),
                key=f"metrics.{name}.events",
                fix="name a count measure as 'events', or make it a 'ratio' metric "
                "(numerator, denominator, scale) when the numerator sums a quantity",
            )
