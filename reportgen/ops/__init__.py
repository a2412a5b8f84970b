"""Running reports in production: delivery runs, the scheduler, alerts, the outbox and ledger.

:mod:`~reportgen.ops.runs` builds (or reuses) a report and delivers it on its
:mod:`~reportgen.ops.channels` through the :mod:`~reportgen.ops.outbox`, recording every
run and send in the :mod:`~reportgen.ops.ledger`; :mod:`~reportgen.ops.schedule` runs
that on a timetable and :mod:`~reportgen.ops.alerts` checks alert rules.
"""
