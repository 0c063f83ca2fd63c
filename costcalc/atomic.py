"""Write a file for users atomically: a temp file in the same directory, flush, fsync, rename.

A crash or error at any point leaves either the old file or the new one, never a truncated
file, and never a stray temp file (it is removed on any error before the rename).
"""
from __future__ import annotations

import os
import tempfile

from costcalc.errors import CostcalcError


def write_text_atomic(path, text: str, what: str = "file") -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically; raises CostcalcError on failure."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as exc:
        raise CostcalcError(f"cannot write {what}: {exc.strerror or exc}", file=path) from None
    try:
        os.fchmod(fd, _mode_for(path))  # mkstemp makes 0600; keep the old mode, else honour umask
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise CostcalcError(f"cannot write {what}: {exc.strerror or exc}", file=path) from None
        raise
    _sync_dir(directory)


def _mode_for(path: str) -> int:
    """The mode the file should have: the existing file's, else 0666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _sync_dir(directory: str) -> None:
    """Make the rename itself durable (best effort; not every platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
