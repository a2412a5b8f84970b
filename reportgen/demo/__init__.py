"""Deterministic synthetic moderation-operations data for demos, tests and benchmarks.

``generate_demo_data(out_dir, rows, weeks, seed, end, progress)`` writes a
fictional Trust & Safety operation (8 regions, 25 vendor sites, 16 queues over
15 policies, 28 languages, ~2,400 moderators) with realistic seasonality and
four planted incidents that a good weekly report should surface. The same
arguments always give byte-identical files.

Period covered
    ``weeks`` whole ISO weeks (Monday start) followed by the partial week that
    contains ``end``: data starts on the Monday ``weeks`` weeks before the
    Monday of ``end``'s week, and stops at ``end`` 10:00 UTC. The week before
    ``end``'s is the latest complete week ("L"); the incidents sit in L and L-1.

Files in ``out_dir``
    ``decisions/part-NNNNN.parquet``  one row per moderation decision; each part
                                      holds whole days (by ``decided_at``)
    ``staffing/part-NNNNN.parquet``   one row per moderator-day, same days as the
                                      decisions part with the same number
    ``views.parquet``                 day × policy × region content and violative views
    ``queue_snapshots.parquet``       day × site × queue (with region, policy): ``pending_items``
                                      enqueued by the end of the UTC day and not decided then
    ``open_items.parquet``            items enqueued before ``end`` and not decided by then
                                      (``item_id`` after the last decision id, ``enqueued_at``,
                                      region, site, queue, policy); counted in every snapshot
                                      from their enqueue day
    ``targets.csv``                   metric,valid_from,dimension,segment,target
    ``manifest.json``                 written last; absent while a run is in progress

``manifest.json`` keys (mirrored by :class:`DemoManifest`)
    ``format_version``        1; bumped when a key changes meaning
    ``generator``             ``"reportgen.demo"``
    ``generator_version``     version of the generation rules; data differs across versions
    ``seed``, ``weeks``       the arguments
    ``rows``                  decisions actually written (equals the ``rows`` argument)
    ``start``                 first day, ISO date (a Monday)
    ``end``                   last instant covered, ISO timestamp in UTC (``...T10:00:00Z``)
    ``timezone``              ``"UTC"``: all timestamps and days are UTC
    ``latest_complete_week``  ISO week string of L, e.g. ``"2026-W47"``
    ``partial_week``          ISO week string of the incomplete current week
    ``tables``                ``{name: {"rows": int, "files": [relative POSIX paths]}}`` for
                              ``decisions``, ``staffing``, ``views``, ``queue_snapshots``,
                              ``open_items`` and ``targets``
    ``org.regions``           region names
    ``org.sites``             ``[{code, city, region, teams, moderators}]``
    ``org.teams``             team names
    ``org.queues``            ``[{name, policy, high_severity, sla_hours, base_aht_seconds,
                              automation_rate, volume_share}]`` (the designed baselines)
    ``org.policies``          policy names
    ``org.languages``         language names
    ``org.moderator_count``   moderators in the org (not all appear in small data sets)
    ``org.moderators``        ``[{site, team, first_id, last_id, count}]``: contiguous id
                              ranges (``M00001``…), each moderator in exactly one site and team
    ``incidents``             ``[{id, kind, description, metric, dimension, segment, week,
                              direction, magnitude, magnitude_kind, share_ratio}]``:
                              ``metric`` is a catalog metric id, ``segment`` a value of
                              ``dimension``, ``week`` an ISO week, ``direction`` ``up`` or
                              ``down``; ``magnitude_kind`` ``absolute`` means metric units
                              (-0.15 on a proportion = -15 pp), ``relative`` a fractional
                              change (0.45 = +45 %); ``share_ratio`` (mix shifts only) is the
                              factor on the segment's share of the metric's denominator.

Incidents (ids): ``site_accuracy_drop`` (qa_accuracy, site, week L),
``queue_aht_spike`` (aht, queue, L), ``mix_shift_slow_queue`` (aht, queue, L: the
queue's own AHT is unchanged, overall AHT rises through mix) and
``sla_breach_week`` (sla_attainment, region, L-1; a share of its overdue items is
stranded and still open, so the region's backlog steps up and stays up).
"""

from __future__ import annotations

from ._manifest import DemoManifest, Incident
from .generate import generate_demo_data

__all__ = ["DemoManifest", "Incident", "generate_demo_data"]
