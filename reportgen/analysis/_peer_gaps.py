"""Persistent gaps between peers: what "out of line" means for a segment that always is.

A peer check compares a segment with the other segments this period. Some
segments differ by design — hate-speech cases take longer than spam, a new
vendor site is less accurate for months — and a plain peer check flags them
as an adverse anomaly every single week, which teaches readers to skip the
list. The gap itself is not news; a change in it is.

So the peer check learns each segment's usual gap from the trailing periods:
in every earlier period with enough peers, the segment's value against the
median of the *other* eligible segments that period. The gap is a ratio
(``value / peers' median``: a queue 30 % slower stays 30 % slower when every
queue speeds up) when every value is positive, and a difference otherwise
(shares and rates that can be 0). This period, each past gap is applied to
the peers' median now, giving the values the segment would have had with the
gap it had in each earlier period; the segment is scored against those, with
the same floors as every detector (sampling noise, minimum effect). The
median of them — the expected value — is the baseline the anomaly reports.

A segment with fewer than ``min_history`` earlier periods of gaps (new, or
too small in the past) falls back to the plain peer comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PeerGaps:
    """Each segment's gaps to its peers in earlier periods, oldest first."""

    ratio: bool  # gaps are value / peers' median (else value − peers' median)
    gaps: dict[str, np.ndarray]

    def of(self, segment: str, min_history: int) -> np.ndarray | None:
        found = self.gaps.get(segment)
        return found if found is not None and len(found) >= min_history else None

    def expected(self, gaps: np.ndarray, peers_now: float) -> np.ndarray:
        """The segment's value this period under each earlier gap."""
        return peers_now * gaps if self.ratio else peers_now + gaps

    def usual(self, gaps: np.ndarray) -> float:
        """The learned gap: the median of the earlier ones."""
        return float(np.median(gaps))


def eligible(frame: pd.DataFrame, min_volume: float) -> pd.DataFrame:
    """The rows a peer comparison may use: a value, and enough volume to be credible."""
    return frame[frame["value"].notna() & (frame["volume"] > 0) & (frame["volume"] >= min_volume)]


def learn_gaps(
    history: pd.DataFrame, current: pd.DataFrame, *, min_volume: float, min_peers: int
) -> PeerGaps:
    """Every segment's gap to the median of its peers, per earlier period.

    ``history`` has ``segment``, ``period_start``, ``value`` and ``volume``
    (the earlier periods); ``current`` the current period's tidy rows (to choose
    ratio or difference from every value the comparison will see).
    """
    past = eligible(history, min_volume)
    values = np.concatenate([past["value"].to_numpy(float), current["value"].to_numpy(float)])
    ratio = bool(values.size) and bool((values > 0).all())
    gaps: dict[str, list[float]] = {}
    for _, rows in past.sort_values("period_start").groupby("period_start", sort=True):
        if len(rows) < min_peers + 1:
            continue
        segments = rows["segment"].astype(str).to_numpy()
        period_values = rows["value"].to_numpy(float)
        for i, segment in enumerate(segments):
            peers = float(np.median(np.delete(period_values, i)))
            if ratio and peers <= 0:
                continue
            gap = period_values[i] / peers if ratio else period_values[i] - peers
            gaps.setdefault(segment, []).append(gap)
    return PeerGaps(ratio, {s: np.asarray(g) for s, g in gaps.items()})


def gap_text(gaps: PeerGaps, usual: float, words_value: Callable[[float], str]) -> str:
    """``30 % above`` / ``12 % below`` (ratio) or ``4.1 s above`` (difference) the peers."""
    if gaps.ratio:
        change = (usual - 1) * 100
        side = "above" if change >= 0 else "below"
        return f"{abs(change):.0f} % {side}"
    side = "above" if usual >= 0 else "below"
    return f"{words_value(abs(usual))} {side}"
