"""Writing artifacts so that a failed build never leaves a half-written file.

Every artifact of a build is rendered into a private staging folder next to
its destination (same filesystem) and moved into place with ``os.replace``
only after all of them rendered. A crash or an exception leaves the previous
artifacts untouched and removes the staging folder.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reportgen.errors import DeliveryError


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
        folder = Path(tempfile.mkdtemp(prefix=".staging-", dir=final_dir))
    except OSError as exc:
        raise _plain(exc, final_dir) from None
    try:
        staging = Staging(folder)
        yield staging
        for name in staging.files:
            os.replace(folder / name, final_dir / name)
    except OSError as exc:
        raise _plain(exc, final_dir) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
