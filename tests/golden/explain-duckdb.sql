-- decisions by decided_at
-- runs on DuckDB (duckdb dialect)
SELECT
  CAST(MAKE_TIMESTAMP(EPOCH_US(CAST(decided_at AS TIMESTAMPTZ))) AS DATE) AS day,
  region,
  queue,
  site,
  COUNT(*) AS decisions,
  COALESCE(SUM(CAST(handle_seconds AS DOUBLE)) FILTER(WHERE
    (
      NOT automated
    )), 0) AS handle_seconds,
  COUNT(*) FILTER(WHERE
    (
      NOT automated
    )) AS manual_decisions,
  COALESCE(
    SUM(CAST(handle_seconds AS DOUBLE) * CAST(handle_seconds AS DOUBLE)) FILTER(WHERE
      (
        NOT automated
      )),
    0
  ) AS handle_seconds_sq,
  COUNT(*) FILTER(WHERE
    (
      decided_at <= enqueued_at + sla_hours * INTERVAL '1' HOUR
    )) AS sla_met,
  COUNT(*) FILTER(WHERE
    (
      qa_sampled AND qa_correct
    )) AS qa_correct,
  COUNT(*) FILTER(WHERE
    (
      qa_sampled
    )) AS qa_sampled,
  COUNT(*) FILTER(WHERE
    (
      overturned AND appealed AND action IN ('remove', 'restrict')
    )) AS overturns,
  COUNT(*) FILTER(WHERE
    (
      appealed AND action IN ('remove', 'restrict')
    )) AS appeals,
  COUNT(*) FILTER(WHERE
    (
      automated
    )) AS automated_decisions,
  COUNT(*) FILTER(WHERE
    (
      detection = 'proactive' AND action IN ('remove', 'restrict')
    )) AS proactive_enforcements,
  COUNT(*) FILTER(WHERE
    (
      action IN ('remove', 'restrict')
    )) AS enforcements,
  COUNT(*) FILTER(WHERE
    (
      decided_at < enqueued_at
    )) AS check__decided_before_enqueued,
  COUNT(*) FILTER(WHERE
    (
      handle_seconds < 0
    )) AS check__negative_handle_time,
  COUNT(*) FILTER(WHERE
    (
      handle_seconds > 4 * 3600
    )) AS check__absurd_handle_time,
  COUNT(*) FILTER(WHERE
    (
      qa_correct AND NOT qa_sampled
    )) AS check__qa_correct_without_sample,
  COUNT(*) FILTER(WHERE
    (
      overturned AND NOT appealed
    )) AS check__overturned_without_appeal,
  COUNT(*) FILTER(WHERE
    (
      region IS NULL
    )) AS check__missing_region,
  COUNT(*) AS check__rows,
  COUNT(*) FILTER(WHERE
    (
      decision_id IS NULL
    )) AS check__null_decision_id,
  COUNT(*) FILTER(WHERE
    (
      site IS NULL
    )) AS check__null_site,
  COUNT(*) FILTER(WHERE
    (
      queue IS NULL
    )) AS check__null_queue
FROM READ_PARQUET('<path2>/decisions/*.parquet')
WHERE
  NOT decided_at IS NULL
GROUP BY
  1,
  2,
  3,
  4

-- queue_snapshots by day
-- runs on DuckDB (duckdb dialect)
SELECT
  CAST(day AS DATE) AS day,
  region,
  queue,
  site,
  COALESCE(SUM(CAST(pending_items AS DOUBLE)), 0) AS pending_items,
  COUNT(*) AS check__rows,
  COUNT(*) FILTER(WHERE
    (
      site IS NULL
    )) AS check__null_site,
  COUNT(*) FILTER(WHERE
    (
      queue IS NULL
    )) AS check__null_queue,
  COUNT(*) FILTER(WHERE
    (
      region IS NULL
    )) AS check__null_region
FROM READ_PARQUET('<path2>/queue_snapshots.parquet')
WHERE
  NOT day IS NULL
GROUP BY
  1,
  2,
  3,
  4

-- staffing by day
-- runs on DuckDB (duckdb dialect)
SELECT
  CAST(day AS DATE) AS day,
  region,
  site,
  COALESCE(SUM(CAST(productive_hours AS DOUBLE)), 0) AS productive_hours,
  COALESCE(SUM(CAST(paid_hours AS DOUBLE)), 0) AS paid_hours,
  COALESCE(SUM(CAST(high_severity_hours AS DOUBLE)), 0) AS high_severity_hours,
  COUNT(*) FILTER(WHERE
    (
      productive_hours > paid_hours + 1e-9
    )) AS check__productive_exceeds_paid,
  COUNT(*) AS check__rows,
  COUNT(*) FILTER(WHERE
    (
      paid_hours < 0
    )) AS check__negative_paid_hours,
  COUNT(*) FILTER(WHERE
    (
      productive_hours < 0
    )) AS check__negative_productive_hours,
  COUNT(*) FILTER(WHERE
    (
      wellness_hours < 0
    )) AS check__negative_wellness_hours,
  COUNT(*) FILTER(WHERE
    (
      high_severity_hours < 0
    )) AS check__negative_high_severity_hours
FROM READ_PARQUET('<path2>/staffing/*.parquet')
WHERE
  NOT day IS NULL
GROUP BY
  1,
  2,
  3

-- decisions time_to_action_hours sketch by decided_at
-- runs on DuckDB (duckdb dialect)
SELECT
  day,
  region,
  queue,
  site,
  GROUPING(region) AS grouping__region,
  GROUPING(queue) AS grouping__queue,
  GROUPING(site) AS grouping__site,
  bucket,
  COUNT(*) AS time_to_action_hours
FROM (
  SELECT
    CASE
      WHEN decided_at < CAST('2025-11-24 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2025-11-17' AS DATE)
      WHEN decided_at < CAST('2026-06-08 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-06-01' AS DATE)
      WHEN decided_at < CAST('2026-06-15 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-06-08' AS DATE)
      WHEN decided_at < CAST('2026-06-22 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-06-15' AS DATE)
      WHEN decided_at < CAST('2026-06-29 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-06-22' AS DATE)
      WHEN decided_at < CAST('2026-07-06 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-06-29' AS DATE)
      WHEN decided_at < CAST('2026-07-13 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-07-06' AS DATE)
      WHEN decided_at < CAST('2026-07-20 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-07-13' AS DATE)
      WHEN decided_at < CAST('2026-07-27 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-07-20' AS DATE)
      WHEN decided_at < CAST('2026-08-03 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-07-27' AS DATE)
      WHEN decided_at < CAST('2026-08-10 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-08-03' AS DATE)
      WHEN decided_at < CAST('2026-08-17 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-08-10' AS DATE)
      WHEN decided_at < CAST('2026-08-24 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-08-17' AS DATE)
      WHEN decided_at < CAST('2026-08-31 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-08-24' AS DATE)
      WHEN decided_at < CAST('2026-09-07 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-08-31' AS DATE)
      WHEN decided_at < CAST('2026-09-14 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-09-07' AS DATE)
      WHEN decided_at < CAST('2026-09-21 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-09-14' AS DATE)
      WHEN decided_at < CAST('2026-09-28 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-09-21' AS DATE)
      WHEN decided_at < CAST('2026-10-05 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-09-28' AS DATE)
      WHEN decided_at < CAST('2026-10-12 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-10-05' AS DATE)
      WHEN decided_at < CAST('2026-10-19 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-10-12' AS DATE)
      WHEN decided_at < CAST('2026-10-26 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-10-19' AS DATE)
      WHEN decided_at < CAST('2026-11-02 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-10-26' AS DATE)
      WHEN decided_at < CAST('2026-11-09 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-11-02' AS DATE)
      WHEN decided_at < CAST('2026-11-16 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-11-09' AS DATE)
      WHEN decided_at < CAST('2026-11-23 00:00:00+00:00' AS TIMESTAMPTZ)
      THEN CAST('2026-11-16' AS DATE)
    END AS day,
    region,
    queue,
    site,
    CAST(CASE
      WHEN (
        CAST((
          (
            EPOCH_US(decided_at) - EPOCH_US(enqueued_at)
          ) / 3600e6
        ) AS DOUBLE)
      ) > 0
      THEN CEIL(
        LN(
          CAST((
            (
              EPOCH_US(decided_at) - EPOCH_US(enqueued_at)
            ) / 3600e6
          ) AS DOUBLE)
        ) / 0.020000666706669435
      )
      WHEN (
        CAST((
          (
            EPOCH_US(decided_at) - EPOCH_US(enqueued_at)
          ) / 3600e6
        ) AS DOUBLE)
      ) <= 0
      THEN -1073741824
    END AS BIGINT) AS bucket
  FROM READ_PARQUET('<path2>/decisions/*.parquet')
  WHERE
    NOT decided_at IS NULL
    AND (
      (
        decided_at >= CAST('2025-11-17 00:00:00+00:00' AS TIMESTAMPTZ)
        AND decided_at < CAST('2025-11-24 00:00:00+00:00' AS TIMESTAMPTZ)
      )
      OR (
        decided_at >= CAST('2026-06-01 00:00:00+00:00' AS TIMESTAMPTZ)
        AND decided_at < CAST('2026-11-23 00:00:00+00:00' AS TIMESTAMPTZ)
      )
    )
) AS sketch_rows
GROUP BY
  GROUPING SETS (
    (day, bucket),
    (day, region, bucket),
    (day, queue, bucket),
    (day, site, bucket)
  )

-- decisions data-quality probe
-- runs on DuckDB (duckdb dialect) for 2026-W47; a failed check then fetches up to 5 examples (ids or days) with a SELECT … LIMIT 5
SELECT
  'duplicate' AS kind,
  day,
  SUM(copies - 1) AS n
FROM (
  SELECT
    MIN(CAST(MAKE_TIMESTAMP(EPOCH_US(CAST(decided_at AS TIMESTAMPTZ))) AS DATE)) AS day,
    COUNT(*) AS copies
  FROM READ_PARQUET('<path2>/decisions/*.parquet')
  WHERE
    (
      decided_at BETWEEN CAST('2026-11-14 00:00:00+00:00' AS TIMESTAMPTZ) AND CAST('2026-11-25 00:00:00+00:00' AS TIMESTAMPTZ)
      AND CAST(MAKE_TIMESTAMP(EPOCH_US(CAST(decided_at AS TIMESTAMPTZ))) AS DATE) BETWEEN CAST('2026-11-16' AS DATE) AND CAST('2026-11-22' AS DATE)
    )
    AND NOT decision_id IS NULL
  GROUP BY
    decision_id
  HAVING
    COUNT(*) > 1
) AS dup
GROUP BY
  day
UNION ALL
SELECT
  'undated' AS kind,
  CAST(NULL AS DATE) AS day,
  COUNT(*) AS n
FROM READ_PARQUET('<path2>/decisions/*.parquet')
WHERE
  decided_at IS NULL

-- queue_snapshots data-quality probe
-- runs on DuckDB (duckdb dialect) for 2026-W47; a failed check then fetches up to 5 examples (ids or days) with a SELECT … LIMIT 5
SELECT
  'duplicate' AS kind,
  day,
  SUM(copies - 1) AS n
FROM (
  SELECT
    MIN(CAST(day AS DATE)) AS day,
    COUNT(*) AS copies
  FROM READ_PARQUET('<path2>/queue_snapshots.parquet')
  WHERE
    CAST(day AS DATE) BETWEEN CAST('2026-11-16' AS DATE) AND CAST('2026-11-22' AS DATE)
    AND NOT day IS NULL
    AND NOT site IS NULL
    AND NOT queue IS NULL
  GROUP BY
    day,
    site,
    queue
  HAVING
    COUNT(*) > 1
) AS dup
GROUP BY
  day
UNION ALL
SELECT
  'undated' AS kind,
  CAST(NULL AS DATE) AS day,
  COUNT(*) AS n
FROM READ_PARQUET('<path2>/queue_snapshots.parquet')
WHERE
  day IS NULL

-- staffing data-quality probe
-- runs on DuckDB (duckdb dialect) for 2026-W47; a failed check then fetches up to 5 examples (ids or days) with a SELECT … LIMIT 5
SELECT
  'undated' AS kind,
  CAST(NULL AS DATE) AS day,
  COUNT(*) AS n
FROM READ_PARQUET('<path2>/staffing/*.parquet')
WHERE
  day IS NULL

