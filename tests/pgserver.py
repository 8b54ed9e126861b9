"""A throwaway PostgreSQL + PostGIS server for the tests: ``initdb`` and ``pg_ctl`` in a temporary
directory on a free port, nothing assumed to be running, stopped and removed at the end.

Each database a test asks for is a fresh copy of a template that already has PostGIS, so a test
costs a ``CREATE DATABASE``, not an extension install. Connections use password authentication
over TCP with the password in a ``.pgpass`` file (``PGPASSFILE``), as a borough's install would:
URLs carry no password. Without the binaries or the extension, tests that need the server skip
with the reason on a developer's machine and fail in CI (``CI=true``).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

BIN_DIRS = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin")]
SUPERUSER = "closuremap_test_admin"


def _bindir() -> Path | None:
    for d in BIN_DIRS:
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where the suite must run whole."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostGIS is needed by the suite in CI: {reason}", pytrace=False)
    pytest.skip(reason)


class PgServer:
    """A running throwaway cluster; :meth:`new_database` gives a URL (no password in it)."""

    def __init__(self, bindir: Path, root: Path, run_as: str | None) -> None:
        self.bindir, self.root, self.run_as = bindir, root, run_as
        self.port = _free_port()
        self.data = root / "data"
        self.password = secrets.token_hex(16)
        self.passfile = root / "pgpass"
        self._count = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in args]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)

    def start(self) -> None:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self.run_as:
            uid = pwd.getpwnam(self.run_as)
            for p in (self.root, pwfile):
                os.chown(p, uid.pw_uid, uid.pw_gid)
        init = self._run(
            self.bindir / "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--pwfile",
            str(pwfile),
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        )
        pwfile.unlink()
        if init.returncode:
            raise RuntimeError(f"initdb failed: {init.stderr[-2000:]}")
        started = self._run(
            self.bindir / "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            "-w",
            "start",
        )
        if started.returncode:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stderr[-1000:]} {log[-2000:]}")
        self.passfile.write_text(f"127.0.0.1:{self.port}:*:{SUPERUSER}:{self.password}\n")
        self.passfile.chmod(0o600)
        os.environ["PGPASSFILE"] = str(self.passfile)
        import psycopg

        with psycopg.connect(self.admin_url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE closuremap_template")
        with psycopg.connect(self.admin_url("closuremap_template"), autocommit=True) as conn:
            try:
                conn.execute("CREATE EXTENSION postgis")
            except psycopg.Error as exc:
                raise RuntimeError(f"the postgis extension is not installed: {exc}") from exc

    def stop(self) -> None:
        self._run(self.bindir / "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def admin_url(self, database: str) -> str:
        """The superuser's URL for ``database`` (the password comes from ``PGPASSFILE``)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database with PostGIS; its superuser URL."""
        import psycopg

        self._count += 1
        name = f"ws_{os.getpid()}_{self._count}"
        with psycopg.connect(self.admin_url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE closuremap_template')
        return self.admin_url(name)

    def add_login(self, name: str, password: str) -> None:
        """A login role with a password (kept in the ``.pgpass`` file, never in a URL)."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(name), sql.Literal(password)
                )
            )
        with self.passfile.open("a") as f:
            f.write(f"127.0.0.1:{self.port}:*:{name}:{password}\n")

    def url_as(self, url: str, login: str) -> str:
        """``url`` for another login role."""
        return url.replace(f"postgresql://{SUPERUSER}@", f"postgresql://{login}@", 1)


@contextmanager
def running_server() -> Iterator[PgServer]:
    """A server for the session, or a skip (a failure in CI) saying what is missing."""
    bindir = _bindir()
    if bindir is None:
        unavailable("PostgreSQL is not installed: apt-get install postgresql-15-postgis-3")
        raise AssertionError("unreachable")
    run_as = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            unavailable("running as root and there is no 'postgres' user to run the server as")
        run_as = "postgres"
    root = Path(tempfile.mkdtemp(prefix="closuremap-pg-"))
    server = PgServer(bindir, root, run_as)
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        unavailable(str(exc))
    try:
        yield server
    finally:
        server.stop()
