"""``reportgen publish`` and ``reportgen serve``: the report site and the author's live preview."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from reportgen.errors import ConfigError, ReportgenError


def register(app: typer.Typer) -> None:
    from reportgen.cli._console import State, err, fail, out

    @app.command()
    def publish(
        out_dir: Annotated[
            Path,
            typer.Argument(help="The build output folder (what `reportgen build --out` wrote)."),
        ] = Path("output"),
        site: Annotated[
            Path, typer.Option("--site", help="Folder the static site is written to.")
        ] = Path("site"),
        audience: Annotated[
            str | None, typer.Option(help="Publish this audience's folder only.")
        ] = None,
        config: Annotated[
            list[Path] | None,
            typer.Option(
                "--config",
                help="Report config(s) for audience labels and recipients in access.json; "
                "default: configs/reports/*.yaml.",
            ),
        ] = None,
        base_url: Annotated[
            str | None,
            typer.Option(help="Where the site is hosted, e.g. https://reports.example.com/."),
        ] = None,
    ) -> None:
        """Write a static site of the built reports: one folder per audience, offline, incremental."""
        from reportgen.site import publish_site

        try:
            result = publish_site(
                out_dir, site, audience=audience, configs=config, base_url=base_url
            )
        except ReportgenError as error:
            fail(error)
            return
        if not State.quiet:
            err.print(
                f"{len(result.written)} file(s) written, {len(result.unchanged)} unchanged; "
                f"access manifest {result.manifest}",
                markup=False,
            )
        for (report, period, name), url in sorted(result.urls.items()):
            out.print(f"{name:24} {report} {period}  {url}", markup=False)

    @app.command()
    def serve(
        config: Annotated[Path, typer.Argument(help="Report config to preview.")],
        period: Annotated[
            str | None, typer.Option(help="Period to show; default: the latest complete.")
        ] = None,
        audience: Annotated[
            str | None, typer.Option(help="Audience to show; default: the first.")
        ] = None,
        port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 8000,
        host: Annotated[
            str, typer.Option(help="Interface to listen on; 127.0.0.1 keeps it on this machine.")
        ] = "127.0.0.1",
    ) -> None:
        """Preview a report's page in the browser; it rebuilds and reloads on every saved edit."""
        from reportgen.site.serve import serve as run

        if not config.is_file():
            fail(ConfigError(f"report config {config} not found", fix="pass a report YAML file"))
        with tempfile.TemporaryDirectory(prefix="reportgen-serve-") as work:
            try:
                run(
                    config,
                    Path(work),
                    period=period,
                    audience=audience,
                    host=host,
                    port=port,
                    say=lambda msg: err.print(msg, markup=False),
                    ready=lambda url: out.print(
                        f"serving {config} at {url} (Ctrl-C stops)", markup=False
                    ),
                )
            except OSError as error:
                fail(
                    ConfigError(
                        f"cannot listen on {host}:{port}: {error.strerror or error}",
                        fix="choose another --port (0 picks a free one)",
                    )
                )
