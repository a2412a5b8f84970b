"""The ``reportgen`` command: a thin layer that parses options and calls the library.

Each command calls one library function and turns the package's own errors
into a one-paragraph message and a non-zero exit code (2 for config and
usage errors, 1 for everything else). ``--verbose`` adds the traceback.

The commands live in one module per area (:mod:`~reportgen.cli.build`,
:mod:`~reportgen.cli.configs`, :mod:`~reportgen.cli.ops`, :mod:`~reportgen.cli.rca`,
:mod:`~reportgen.cli.cache`); they share :mod:`~reportgen.cli._console` and
never import this module, which only assembles them. Each imports the heavy
parts of the library inside the command, so ``reportgen --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from reportgen import __version__
from reportgen.cli import build, cache, comment, configs, init, ops, rca, review, site
from reportgen.cli._console import State, out

app = typer.Typer(
    help="Trust & Safety operations reports: metric cube → insights → branded PDF, editable PPTX, "
    "HTML. Start here: `reportgen init --from YOUR_DATA` (your own tables) or `reportgen demo-data` "
    "(the demo).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"reportgen {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only results and errors.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show progress details and tracebacks.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    State.quiet, State.verbose = quiet, verbose


app.command()(build.build)
app.command()(configs.validate)
app.command()(configs.metrics)
app.command()(configs.schema)
app.command("demo-data")(build.demo_data)
app.command("init")(init.init)
app.add_typer(ops.schedule_app, name="schedule")
app.add_typer(ops.runs_app, name="runs")
app.add_typer(ops.alerts_app, name="alerts")
app.command("send")(ops.send)
app.command("approve")(review.approve)
app.add_typer(rca.rca_app, name="rca")
app.add_typer(comment.comment_app, name="comment")
app.add_typer(cache.cache_app, name="cache")
site.register(app)  # publish, serve
