"""``python -m reportgen.cli``: the ``reportgen`` command without the installed script."""

from reportgen.cli import app

app()
