"""What every ``reportgen`` command shares: the consoles, the global flags, the error exit.

Kept apart from the app (:mod:`reportgen.cli`) so the command modules import
it, never the app: the app imports the commands, nothing imports the app.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console

from reportgen.errors import ConfigError, PeriodError, ReportgenError

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

T = TypeVar("T")

OutOption = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
ConfigsArgument = Annotated[
    list[Path] | None,
    typer.Argument(help="Report configs; default: configs/reports/*.yaml."),
]


class State:
    """The global ``--quiet`` and ``--verbose`` flags, set by the app's callback."""

    quiet = False
    verbose = False


def fail(error: ReportgenError) -> NoReturn:
    """Print the package's error as one paragraph and exit: 2 for config and usage, else 1."""
    if State.verbose:
        err.print_exception()
    err.print(f"[bold red]error:[/] {error}", soft_wrap=True)
    raise typer.Exit(2 if isinstance(error, ConfigError | PeriodError) else 1)


def run_or_fail(action: Callable[[], T]) -> T:
    """``action()``, or the clean exit of :func:`fail` on a :class:`ReportgenError`."""
    try:
        return action()
    except ReportgenError as error:
        fail(error)


def with_progress(run: Callable[[Callable[[str], None]], T]) -> T:
    """``run(say)`` with a spinner on a terminal (each step listed with ``--verbose``)."""
    if State.quiet or (not sys.stderr.isatty() and not State.verbose):
        return run(lambda _msg: None)
    from reportgen.build import StageClock

    with err.status("Starting") as status:

        def say(message: str) -> None:
            status.update(message)
            if State.verbose:
                err.print(f"[dim]· {message}[/]")

        clock = StageClock(say)
        result = run(clock)
    if State.verbose:  # the time of each stage, so a regression in one of them is visible
        stages = clock.finish()
        err.print("[dim]Time per stage:[/]")
        for message, seconds in stages:
            err.print(f"[dim]  {seconds:6.2f} s  {message}[/]", highlight=False)
        err.print(f"[dim]  {sum(s for _, s in stages):6.2f} s  in all[/]", highlight=False)
    return result


def say(message: str) -> None:
    """A progress line on stderr unless ``--quiet``."""
    if not State.quiet:
        err.print(message, markup=False)


def report_configs(paths: list[Path] | None) -> list[Path]:
    """The given report configs, or every one under ``configs/reports/``."""
    return list(paths or sorted(Path("configs/reports").glob("*.y*ml")))
