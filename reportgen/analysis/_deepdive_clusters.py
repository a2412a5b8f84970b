"""Clusters of sites/teams by their standardised metric profile: k-means or Ward.

Metrics live on different scales (AHT in tens of seconds, accuracy near 0.9), so
every feature is standardised to z-scores first; otherwise the clusters would
simply be "long AHT" and "short AHT". The number of clusters is the one with the
best silhouette (how much closer each site is to its own cluster than to the next
one), and each cluster is described by the features that set it apart.

scikit-learn is imported inside the functions, so importing the package stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from ._deepdive_common import (
    MINUS,
    complete_rows,
    fmt_fixed,
    in_sentence,
    join_limited,
    label_of,
    require_columns,
    row_labels,
    varying,
    with_warnings_as_notes,
)
from ._threads import one_thread

_DISTINCT_SD = 0.5  # a cluster mean this many sd from the overall mean sets it apart
_MAX_TRAITS = 3


@dataclass(frozen=True)
class FeatureProfile:
    """A cluster's mean of one feature, in the feature's units and in sd from the mean."""

    feature: str
    mean: float
    z: float


@dataclass(frozen=True)
class Cluster:
    """One cluster: ``id`` counts from 1 by size (largest first); ``members`` are row
    labels in frame order; ``description`` names what sets the cluster apart."""

    id: int
    size: int
    members: tuple[str, ...]
    profile: tuple[FeatureProfile, ...]
    description: str


@dataclass(frozen=True)
class ClusterResult:
    """The chosen clustering, the silhouette of every k tried, and the linkage (Ward).

    ``rows`` are the row labels used and ``assignment`` each row's cluster id, in the
    same order. ``silhouette_by_k`` pairs each k tried with its mean silhouette
    (``sklearn.metrics.silhouette_score``); ``k`` is the best. ``linkage`` is scipy's
    (n − 1) × 4 linkage matrix for a dendrogram (Ward only) and ``leaves`` the row
    labels in dendrogram order. With too few rows there are no clusters and a note.
    """

    method: str
    features: tuple[str, ...]
    k: int | None
    silhouette: float | None
    silhouette_by_k: tuple[tuple[int, float], ...]
    clusters: tuple[Cluster, ...]
    rows: tuple[str, ...]
    assignment: tuple[int, ...]
    rows_dropped: int
    linkage: tuple[tuple[float, float, float, float], ...] | None = None
    leaves: tuple[str, ...] | None = None
    notes: tuple[str, ...] = ()

    @property
    def note(self) -> str | None:
        return " ".join(self.notes) or None


Labeller = Callable[[np.ndarray, int], np.ndarray | None]


def kmeans_clusters(
    frame: pd.DataFrame,
    features: Sequence[str],
    *,
    k_range: range = range(2, 7),
    seed: int = 0,
    labels: Mapping[str, str] | None = None,
) -> ClusterResult:
    """k-means (``sklearn.cluster.KMeans``, 10 starts, ``random_state=seed``) on z-scores.

    The seed makes the clusters reproducible week to week; ten starts keep a poor
    random start from deciding them. ``labels`` maps features to display names.
    """
    from sklearn.cluster import KMeans

    def fit(z: np.ndarray, k: int) -> np.ndarray:
        model = KMeans(n_clusters=k, n_init=10, random_state=seed)
        with one_thread():  # a few dozen sites: threads would only wait (see analysis._threads)
            return np.asarray(model.fit_predict(z))

    return _cluster("kmeans", frame, features, k_range, fit, labels)


def hierarchical_clusters(
    frame: pd.DataFrame,
    features: Sequence[str],
    *,
    k_range: range = range(2, 7),
    labels: Mapping[str, str] | None = None,
) -> ClusterResult:
    """Ward hierarchical clustering (``scipy.cluster.hierarchy``) on z-scores.

    Deterministic, and its dendrogram shows how sites merge at every level, not
    only at the chosen k; the tree is cut into k clusters with ``fcluster``
    (``maxclust``), k chosen by silhouette like k-means.
    """
    from scipy.cluster import hierarchy

    tree: dict[str, np.ndarray] = {}

    def cut(z: np.ndarray, k: int) -> np.ndarray | None:
        if "linkage" not in tree:
            tree["linkage"] = hierarchy.linkage(z, method="ward")
        assignment = hierarchy.fcluster(tree["linkage"], t=k, criterion="maxclust")
        return assignment if len(np.unique(assignment)) == k else None

    result = _cluster("ward", frame, features, k_range, cut, labels)
    if "linkage" not in tree:
        return result
    order = hierarchy.leaves_list(tree["linkage"])
    return _with_tree(result, tree["linkage"], order)


def _with_tree(result: ClusterResult, matrix: np.ndarray, order: np.ndarray) -> ClusterResult:
    linkage = tuple((float(a), float(b), float(c), float(d)) for a, b, c, d in matrix)
    return replace(result, linkage=linkage, leaves=tuple(result.rows[i] for i in order))


def _cluster(
    method: str,
    frame: pd.DataFrame,
    features: Sequence[str],
    k_range: range,
    labeller: Labeller,
    labels: Mapping[str, str] | None,
) -> ClusterResult:
    from sklearn.preprocessing import StandardScaler

    require_columns(frame, features)
    notes: list[str] = []
    data, dropped = complete_rows(frame, features, notes)
    used = [f for f in features if _keep_feature(data, f, notes)]
    empty = ClusterResult(method, tuple(used), None, None, (), (), row_labels(data), (), dropped)
    if not used:
        return _with_notes(empty, [*notes, "no feature varies across the rows: nothing to cluster"])
    candidates = _candidate_ks(data[used].to_numpy(dtype=float), k_range, notes)
    if not candidates:
        return _with_notes(empty, notes)
    z = StandardScaler().fit_transform(data[used].to_numpy(dtype=float))
    scores, best = _choose_k(z, candidates, labeller, notes)
    if best is None:
        return _with_notes(empty, notes)
    k, assignment = best
    clusters, ids = _describe(data, used, z, assignment, labels or {})
    return ClusterResult(
        method=method,
        features=tuple(used),
        k=k,
        silhouette=scores[k],
        silhouette_by_k=tuple(scores.items()),
        clusters=clusters,
        rows=row_labels(data),
        assignment=ids,
        rows_dropped=dropped,
        notes=tuple(notes),
    )


def _with_notes(result: ClusterResult, notes: list[str]) -> ClusterResult:
    return replace(result, notes=tuple(notes))


def _keep_feature(data: pd.DataFrame, feature: str, notes: list[str]) -> bool:
    if len(data) and varying(data[feature].to_numpy(dtype=float)):
        return True
    notes.append(f"{feature} dropped: it does not vary across the rows")
    return False


def _candidate_ks(values: np.ndarray, k_range: range, notes: list[str]) -> list[int]:
    """The k the silhouette is defined for: 2 ≤ k ≤ rows − 1 and k ≤ distinct profiles."""
    distinct = len(np.unique(values, axis=0))
    limit = min(len(values) - 1, distinct)
    candidates = [k for k in k_range if 2 <= k <= limit]
    skipped = [k for k in k_range if k not in candidates]
    if skipped:
        notes.append(
            f"k = {', '.join(map(str, skipped))} skipped: the silhouette needs 2 ≤ k < rows "
            f"and no more clusters than distinct profiles ({len(values)} rows, {distinct} distinct)"
        )
    return candidates


def _choose_k(
    z: np.ndarray, candidates: Sequence[int], labeller: Labeller, notes: list[str]
) -> tuple[dict[int, float], tuple[int, np.ndarray] | None]:
    """Silhouette of each k; the best wins, the smaller k on a tie (fewer groups to read)."""
    from sklearn.metrics import silhouette_score

    scores: dict[int, float] = {}
    best: tuple[int, np.ndarray] | None = None
    for k in candidates:
        assignment = with_warnings_as_notes(partial(labeller, z, k), notes, f"k = {k}")
        if assignment is None or len(np.unique(assignment)) != k:
            notes.append(f"k = {k} skipped: the method found fewer than {k} distinct clusters")
            continue
        scores[k] = float(silhouette_score(z, assignment))
        if best is None or scores[k] > scores[best[0]]:
            best = (k, assignment)
    return scores, best


def _describe(
    data: pd.DataFrame,
    features: Sequence[str],
    z: np.ndarray,
    assignment: np.ndarray,
    labels: Mapping[str, str],
) -> tuple[tuple[Cluster, ...], tuple[int, ...]]:
    """Number clusters by size (then first member) and describe each by its traits."""
    names = row_labels(data)
    raw = np.unique(assignment)
    order = sorted(
        raw, key=lambda c: (-int(np.sum(assignment == c)), int(np.argmax(assignment == c)))
    )
    renumber = {old: new for new, old in enumerate(order, start=1)}
    clusters = []
    for old in order:
        mask = assignment == old
        profile = tuple(
            FeatureProfile(f, float(data[f].to_numpy()[mask].mean()), float(z[mask, j].mean()))
            for j, f in enumerate(features)
        )
        members = tuple(n for n, m in zip(names, mask, strict=True) if m)
        text = f"Cluster {renumber[old]} ({join_limited(members)}): {_traits(profile, labels)}"
        clusters.append(Cluster(renumber[old], int(mask.sum()), members, profile, text))
    return tuple(clusters), tuple(renumber[a] for a in assignment)


def _traits(profile: Sequence[FeatureProfile], labels: Mapping[str, str]) -> str:
    """``high AHT (+1.4 sd), low QA accuracy (−1.1 sd)``: the largest |z| first."""
    apart = sorted((p for p in profile if abs(p.z) >= _DISTINCT_SD), key=lambda p: -abs(p.z))
    if not apart:
        return "close to the average on every feature"
    return ", ".join(
        f"{'high' if p.z > 0 else 'low'} {in_sentence(label_of(p.feature, labels))} "
        f"({'+' if p.z > 0 else MINUS}{fmt_fixed(abs(p.z), 1)} sd)"
        for p in apart[:_MAX_TRAITS]
    )
