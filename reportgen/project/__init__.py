"""Your own data to a first report: profile a source, write the configs, check them against it.

:mod:`~reportgen.project.profile` reads a source's columns in one pass in its engine,
:mod:`~reportgen.project.vocabulary` maps them to Trust & Safety metrics,
:mod:`~reportgen.project.scaffold` writes ``sources.yaml``, ``catalog.yaml`` and a starter
report (``reportgen init``), and :mod:`~reportgen.project.data_check` checks a project's
catalog against the sources' real schemas (``reportgen validate --data``).
"""
