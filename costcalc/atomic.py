"""Write a file for users atomically: a temp file in the same directory, flush, fsync, rename.

A crash or error at any point leaves either the old file or the new one, never a truncated
file, and never a stray temp file (it is removed on any error before the rename). Only a
kill -9 between the temp file's creation and the rename leaves one: ``remove_stale_temps``
clears those on the next write.

``exclusive(path)`` serialises read-modify-write cycles on a file (the lock's ``--update``)
between processes.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile

from costcalc.errors import CostcalcError

TEMP_SUFFIX = ".tmp"


def _temp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}."


def write_text_atomic(path, text: str, what: str = "file") -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically; raises CostcalcError on failure."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=_temp_prefix(path), suffix=TEMP_SUFFIX)
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


def remove_stale_temps(path, before: float) -> list[str]:
    """Remove the temp files that writing ``path`` left behind (a process killed mid-write):
    only names of our own pattern, '.NAME.' + mkstemp's 8 characters + '.tmp', and only
    those last modified before ``before`` (a time.time()), so a write in progress is kept.
    Returns the names removed; best effort (an undeletable one stays)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(re.escape(_temp_prefix(path)) + r"[A-Za-z0-9_]{8}" + re.escape(TEMP_SUFFIX))
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not pattern.fullmatch(name):
            continue
        full = os.path.join(directory, name)
        try:
            if os.lstat(full).st_mtime < before and os.path.isfile(full) and not os.path.islink(full):
                os.unlink(full)
                removed.append(name)
        except OSError:
            pass
    return removed


@contextlib.contextmanager
def exclusive(path):
    """Hold an exclusive lock (fcntl.flock) on the directory of ``path`` while the body runs:
    two processes updating the same file take turns, so neither overwrites the other's
    change with what it read before. The directory, not a sidecar file, is locked: a lock
    file can only be locked safely if it is never removed, and it would be clutter in every
    project. Without fcntl (Windows) the body runs unlocked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    directory = os.path.dirname(os.path.abspath(os.fspath(path)))
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as exc:
        raise CostcalcError(f"cannot open its directory: {exc.strerror or exc}", file=os.fspath(path)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a file system without flock: as without fcntl
            pass
        yield
    finally:
        os.close(fd)  # releases the lock
