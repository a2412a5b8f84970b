"""Throwaway PostgreSQL and Spark for the engine tests.

PostgreSQL: ``REPORTGEN_TEST_PG_URL`` names a server to use; otherwise a
private server is started with the Debian package's ``initdb``/``pg_ctl``
into a temp directory, listening only on 127.0.0.1, and removed afterwards.
Where neither is possible the tests skip, unless ``REPORTGEN_REQUIRE_ENGINES``
is set (CI), where they fail: CI must really run them.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PASSWORD_VAR = "REPORTGEN_TEST_PGPASSWORD"


def unavailable(reason: str) -> None:
    """Skip locally; fail where the engines are required (CI)."""
    if os.environ.get("REPORTGEN_REQUIRE_ENGINES"):
        pytest.fail(f"{reason} (REPORTGEN_REQUIRE_ENGINES is set, so this is an error)")
    pytest.skip(reason)


def pg_bin() -> Path | None:
    """The newest PostgreSQL server binaries (Debian keeps them off PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the 'postgres' account."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def private_postgres(tmp: Path) -> Iterator[str]:
    """Start PostgreSQL on 127.0.0.1 with a random password; yield its SQLAlchemy URL."""
    bin_dir = pg_bin()
    if bin_dir is None:
        unavailable("PostgreSQL server binaries not found (apt-get install postgresql)")
    assert bin_dir is not None
    data, pwfile, log = tmp / "pgdata", tmp / "pw", tmp / "pg.log"
    tmp.mkdir(parents=True, exist_ok=True)
    password = secrets.token_hex(16)
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(tmp, account.pw_uid, account.pw_gid)
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    port = _free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "reportgen", f"--pwfile={pwfile}"]
    initdb += ["--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"]
    _run(_as_server_user(initdb))
    options = f"-h 127.0.0.1 -p {port} -k {tmp} -c fsync=off -c full_page_writes=off"
    start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]
    _run(_as_server_user(start))
    try:
        os.environ[PASSWORD_VAR] = password
        yield f"postgresql+psycopg://reportgen:${{{PASSWORD_VAR}}}@127.0.0.1:{port}/postgres"
    finally:
        stop = [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_server_user(stop), check=False, capture_output=True)
        os.environ.pop(PASSWORD_VAR, None)
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def postgres_url(tmp: Path) -> Iterator[str]:
    """A URL whose password is a ``${VAR}`` reference, as sources.yaml must hold it."""
    given = os.environ.get("REPORTGEN_TEST_PG_URL")
    if not given:
        with private_postgres(tmp) as url:
            yield url
        return
    from sqlalchemy.engine import make_url

    url = make_url(given)
    if url.password:
        os.environ[PASSWORD_VAR] = str(url.password)
        url = url.set(password="PLACEHOLDER")
    text = url.render_as_string(hide_password=False).replace("PLACEHOLDER", f"${{{PASSWORD_VAR}}}")
    yield text.replace("postgresql://", "postgresql+psycopg://", 1)


_PG_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "VARCHAR": "text",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP": "timestamp",
}


def load_parquet_into_postgres(url: str, schema: str, tables: dict[str, str], work: Path) -> None:
    """Copy Parquet files into PostgreSQL tables with DuckDB (CSV) and COPY, in bounded memory."""
    import duckdb
    import psycopg

    from reportgen.data.engines import expand_env

    dsn = expand_env(url, what="url").replace("postgresql+psycopg://", "postgresql://", 1)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        pg.execute(f"CREATE SCHEMA {schema}")
        for table, pattern in tables.items():
            relation = con.read_parquet(pattern)
            columns = ", ".join(
                f'"{name}" {_PG_TYPES[str(kind)]}'
                for name, kind in zip(relation.columns, relation.types, strict=True)
            )
            pg.execute(f"CREATE TABLE {schema}.{table} ({columns})")
            csv = work / f"{table}.csv"
            try:
                relation.write_csv(str(csv))
                with (
                    pg.cursor() as cur,
                    cur.copy(
                        f"COPY {schema}.{table} FROM STDIN WITH (FORMAT csv, HEADER true)"
                    ) as copy,
                    csv.open("rb") as handle,
                ):
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
            finally:
                csv.unlink(missing_ok=True)
            pg.execute(f"ANALYZE {schema}.{table}")
    con.close()


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    from reportgen.data.engines import expand_env

    dsn = expand_env(url, what="url").replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
