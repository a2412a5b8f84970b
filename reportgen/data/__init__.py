"""From the sources to the cube: engines, the scan plan, its SQL, the scans, the cache, the gate.

:mod:`~reportgen.data.plan` decides which scans a report needs,
:mod:`~reportgen.data.sql` writes them as sqlglot expressions,
:mod:`~reportgen.data.scan` runs them in :mod:`~reportgen.data.engines` (or reads
closed days from :mod:`~reportgen.data.cache`) into a :class:`~reportgen.data.scan.Cube`,
and :mod:`~reportgen.data.quality` gates it. Nothing here knows about figures,
analysis, documents or delivery.
"""
