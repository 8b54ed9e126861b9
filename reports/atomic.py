"""Writing a document so that a reader only ever sees a whole one.

Every PDF, DOCX and bundle under ``reports/`` is written beside its target under a hidden
``.<name>.<random>.part`` name and renamed over the target with :func:`os.replace` only once it is
complete. A renderer that fails half way (a name that breaks the layout, a full disk, a kill) so
leaves no truncated, valid-looking file at ``--out``, and any earlier copy stays as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path in the target's folder to write to; it replaces ``path`` only if the block
    finishes without raising, and is removed otherwise.

    Same folder, so the rename is on one file system and therefore atomic.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:  # on disk before the rename, so a crash cannot leave it empty
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` beside the target and rename, so a failure never leaves half a document."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
