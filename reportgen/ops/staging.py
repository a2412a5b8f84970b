"""Writing artifacts so that a failed build never leaves a half-written file.

Every artifact of a build is rendered into a private staging folder next to
its destination (same filesystem) and moved into place with ``os.replace``
only after all of them rendered. A crash or an exception leaves the previous
artifacts untouched and removes the staging folder. A process killed outright
(SIGKILL, power loss) cannot remove it: the folder is hidden (``.staging-``),
named after its host and process, and the next build into the same folder
removes every staging folder whose process is gone.

An artifact may be a directory (the CSV export: one file per table). POSIX
cannot rename a directory over a non-empty one, so the previous directory is
first renamed aside, the new one renamed in, and only then the old one
deleted: a reader sees the complete old folder, then (for an instant) none,
then the complete new one — never a mix of two builds — and a failure in
between puts the old folder back. A build killed in that instant leaves the
old folder set aside under a hidden name; the next build puts it back.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reportgen.errors import DeliveryError

logger = logging.getLogger("reportgen.ops.staging")


class Staging:
    """A folder to render into; :meth:`path` names a file inside it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: list[str] = []

    def path(self, filename: str) -> Path:
        self.files.append(filename)
        return self.folder / filename


@contextmanager
def staged_output(final_dir: Path) -> Iterator[Staging]:
    """Yield a staging area; on success move its files into ``final_dir`` atomically, one by one."""
    try:
        final_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(final_dir)
        folder = Path(tempfile.mkdtemp(prefix=_staging_prefix(), dir=final_dir))
    except OSError as exc:
        raise _plain(exc, final_dir) from None
    try:
        staging = Staging(folder)
        yield staging
        for name in staging.files:
            _move_into_place(folder / name, final_dir / name)
    except OSError as exc:
        raise _plain(exc, final_dir) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_STAGING = ".staging-"
_ASIDE = ".replaced-"
#: a staging folder from another host (shared disk) is abandoned after this long
_FOREIGN_STAGING_SECONDS = 24 * 3600


def _owner_tag() -> str:
    """``host-pid-``: whose hidden folder this is, so a later build knows when it is orphaned."""
    return f"{socket.gethostname()}-{os.getpid()}-"


def _staging_prefix() -> str:
    return _STAGING + _owner_tag()


def remove_stale_staging(final_dir: Path) -> list[Path]:
    """Clean up after killed builds (their process is gone); return the folders handled.

    A staging folder is deleted. A folder set aside while a directory
    artifact (the CSV folder) was being swapped is put back if the swap never
    finished — the previous CSVs are restored, not lost — and deleted otherwise.
    """
    handled = []
    for folder in sorted(final_dir.glob(_STAGING + "*")) + sorted(final_dir.glob(_ASIDE + "*")):
        if not folder.is_dir() or folder.is_symlink():
            continue
        prefix = _STAGING if folder.name.startswith(_STAGING) else _ASIDE
        if not _abandoned(folder, prefix):
            continue
        if prefix == _ASIDE:
            _restore_aside(folder, final_dir)
        shutil.rmtree(folder, ignore_errors=True)
        handled.append(folder)
    return handled


def _restore_aside(aside: Path, final_dir: Path) -> None:
    """Put a set-aside folder back where it was, unless its replacement made it there."""
    for old in aside.iterdir():
        target = final_dir / old.name
        if old.is_dir() and not old.is_symlink() and not target.exists():
            with contextlib.suppress(OSError):
                os.replace(old, target)
                logger.warning("restored %s: a build was killed while replacing it", target)


def _abandoned(folder: Path, prefix: str) -> bool:
    host, _, rest = folder.name.removeprefix(prefix).rpartition("-")[0].rpartition("-")
    pid = int(rest) if rest.isdigit() else None
    if host == socket.gethostname() and pid is not None:
        return pid != os.getpid() and not _pid_alive(pid)
    try:  # another host's (or an older version's) folder: only once it is clearly old
        return time.time() - folder.stat().st_mtime > _FOREIGN_STAGING_SECONDS
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, someone else's
        return True
    return True


def _move_into_place(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``: a file atomically, a directory by swapping it in.

    The old directory is deleted only once the new one is in place; if the
    swap fails it is put back, and if even that fails (or the build is
    killed in between) it stays in a hidden ``.replaced-<host>-<pid>-*``
    folder, which the next build in this folder puts back
    (:func:`remove_stale_staging`).
    """
    if not (target.is_dir() and not target.is_symlink()):
        os.replace(source, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=_ASIDE + _owner_tag(), dir=target.parent))
    old = aside / target.name
    try:
        os.replace(target, old)
    except OSError:
        aside.rmdir()
        raise
    try:
        os.replace(source, target)
    except OSError:
        os.replace(old, target)
        shutil.rmtree(aside, ignore_errors=True)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _plain(exc: OSError, folder: Path) -> DeliveryError:
    if exc.errno == errno.ENOSPC:
        return DeliveryError(
            f"the disk holding {folder} is full", fix="free space or choose another --out folder"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DeliveryError(
            f"no permission to write to {folder}", fix="choose a writable --out folder"
        )
    return DeliveryError(
        f"cannot write to {folder}: {exc.strerror or exc}", fix="check the --out folder"
    )
