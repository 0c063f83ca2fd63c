"""Read a YAML file safely, keeping the line and column of every mapping, key and item.

The file is read with clear errors for every way that can fail, parsed by libyaml, and built
into Map/Seq/scalars by ``construct`` (which also holds the limits on the document built:
nesting, alias expansion, number length); every YAML error becomes one costcalc error with
its line and column. Alias expansion is bounded so a "billion laughs" document is refused in
linear time.
"""
from __future__ import annotations

import os
import stat

import yaml

from costcalc.errors import CostcalcError, describe
from costcalc.spec.construct import (MAX_DEPTH, MAX_EXPANDED_NODES, MAX_NUMBER_CHARS, Base as _Base,
                                     Loader as _Loader, Map, Seq, pos_of, too_deep)

__all__ = ["MAX_DEPTH", "MAX_EXPANDED_NODES", "MAX_FILE_BYTES", "MAX_NUMBER_CHARS", "Map", "Seq",
           "load_yaml_file", "parse_yaml", "pos_of", "read_text"]

MAX_FILE_BYTES = 10 * 1024 * 1024  # 10 MiB: documented in the README's "Errors" section


#: libyaml 0.2.6 (PyYAML 6.0.4) stops at 1,000 levels of its own, so its recursive composer
#: cannot exhaust the C stack; an older one must be guarded by a scan of the events first
_LIBYAML_LIMITS_NESTING = _Base is not yaml.SafeLoader and getattr(
    getattr(yaml, "_yaml", None), "get_version", lambda: (0, 0, 0))() >= (0, 2, 6)


def _check_nesting(text: str):
    """Refuse nesting deeper than MAX_DEPTH from the parser's events, before libyaml composes
    the node tree: before 0.2.6, its composer recursed in C and crashed the process (a
    segmentation fault) on a hundred thousand nested brackets."""
    _scan_depth(yaml.parse(text, Loader=_Loader))


def _past_libyamls_limit(text: str, exc: yaml.MarkedYAMLError):
    """libyaml's own nesting error (0.2.6 and later): its scanner, reading up to 1,024
    characters ahead, reaches its limit before the parser has given level MAX_DEPTH + 1 to
    anyone. The pure-Python parser, which has no such limit, re-reads the text up to libyaml's
    mark and raises costcalc's error at level MAX_DEPTH + 1, so the error and its position are
    the same whichever libyaml PyYAML bundles. Anything else: returns."""
    mark = exc.problem_mark
    if _Base is yaml.SafeLoader or mark is None or "nesting depth" not in str(exc.problem):
        return
    try:
        _scan_depth(yaml.parse(text[:mark.index + 1], Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        pass  # the cut text ends mid-token: libyaml's own error stands


def _scan_depth(events):
    depth = 0
    for event in events:
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise too_deep(event)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


_NOT_REGULAR = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _regular(mode: int, path: str, what: str):
    """Refuse anything but a regular file: reading a named pipe waits for a writer forever, and
    a device (such as /dev/zero, also through a symlink) never ends."""
    if stat.S_ISDIR(mode):
        raise CostcalcError(f"is a directory, not a {what} file", file=path)
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _NOT_REGULAR if test(mode)), "not a file")
        raise CostcalcError(f"not a regular file ({kind}), so not a {what} file", file=path)


def read_text(path: str, what: str = "spec") -> str:
    """Read a UTF-8 text file with clear errors for every way that can fail."""
    try:
        _regular(os.stat(path).st_mode, path, what)  # before open(): opening a pipe blocks
        # O_NONBLOCK: if a pipe takes the file's place after the check, open() does not wait
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with open(fd, "rb") as fh:
            info = os.fstat(fh.fileno())  # what was opened is what is read
            _regular(info.st_mode, path, what)
            if info.st_size > MAX_FILE_BYTES:
                raise CostcalcError(f"file is {info.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,} "
                                    "(10 MiB)", file=path)
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise CostcalcError(f"no such {what} file", file=path) from None
    except PermissionError:
        raise CostcalcError("permission denied", file=path) from None
    except OSError as exc:
        raise CostcalcError(f"cannot read: {exc.strerror or exc}", file=path) from None
    if len(data) > MAX_FILE_BYTES:  # it grew after fstat
        raise CostcalcError(f"file is over {MAX_FILE_BYTES:,} bytes (10 MiB), the limit", file=path)
    if b"\x00" in data:
        raise CostcalcError(f"binary file (contains NUL bytes), not a {what} file", file=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CostcalcError(f"not UTF-8 text (bad byte at offset {exc.start})", file=path) from None


def parse_yaml(text: str, file: str | None = None, what: str = "spec") -> Map:
    """Parse YAML text into Map/Seq/scalars; the top level must be a mapping."""
    if not text.strip():
        raise CostcalcError(f"empty {what} file", file=file)
    try:
        try:
            if not _LIBYAML_LIMITS_NESTING:
                _check_nesting(text)
            doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader;
            # it refuses nesting and alias expansion past the limits
        except yaml.MarkedYAMLError as exc:
            _past_libyamls_limit(text, exc)
            raise
    except CostcalcError as exc:
        raise exc.located(file=file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in str(exc):
            tag = str(exc.problem).split("'")[1] if "'" in str(exc.problem) else "?"
            problem = f"tag '{tag}' is not allowed: costcalc reads plain YAML only"
        raise CostcalcError(f"YAML: {problem}", file=file,
                            line=mark.line + 1 if mark else None,
                            column=mark.column + 1 if mark else None) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow: no mark, a position
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise CostcalcError(f"YAML: character U+{ord(exc.character) if isinstance(exc.character, str) else exc.character:04X} "
                            f"is not allowed ({exc.reason})",
                            file=file, line=line, column=column) from None
    except yaml.YAMLError as exc:
        raise CostcalcError(f"YAML: {exc}", file=file) from None
    except RecursionError:
        raise CostcalcError("YAML nesting is too deep", file=file) from None
    if doc is None:
        raise CostcalcError(f"empty {what} file", file=file)
    if not isinstance(doc, dict):
        raise CostcalcError(f"the top level must be a mapping of keys, not {describe(doc)}",
                            file=file, line=1, column=1)
    return doc


def load_yaml_file(path: str, what: str = "spec") -> Map:
    return parse_yaml(read_text(path, what), file=path, what=what)
