"""Read a YAML file safely, keeping the line and column of every mapping, key and item.

Only yaml's *safe* loader is used, so Python-object tags are refused. Duplicate keys
are an error (PyYAML would silently keep the last one). Alias expansion is bounded so
a "billion laughs" document is refused in linear time.
"""
from __future__ import annotations

import os
import stat

import yaml

from costcalc.errors import CostcalcError, describe, unprintable

MAX_FILE_BYTES = 10 * 1024 * 1024  # 10 MiB: documented in the README's "Errors" section
MAX_EXPANDED_NODES = 1_000_000  # nodes after alias expansion
MAX_NUMBER_CHARS = 100  # a whole number in YAML: at most this many characters
MAX_DEPTH = 100  # lists and mappings inside each other (a spec needs about 6)

try:  # the C loader is several times faster; both give marks
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Base = yaml.SafeLoader


class Map(dict):
    """A YAML mapping that remembers where it and each of its keys stand (1-based)."""

    pos: tuple[int, int] | None = None
    key_pos: dict


class Seq(list):
    """A YAML sequence that remembers where it and each of its items stand (1-based)."""

    pos: tuple[int, int] | None = None
    item_pos: list


def pos_of(node, key=None):
    """(line, column) of a mapping/sequence, or of one key/item in it; None if unknown."""
    if key is not None:
        if isinstance(node, Map):
            return node.key_pos.get(key, node.pos)
        if isinstance(node, Seq) and isinstance(key, int) and 0 <= key < len(node.item_pos):
            return node.item_pos[key]
    return getattr(node, "pos", None)


def _mark(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Loader(_Base):
    def construct_document(self, node):
        _check_depth(node)  # aliases can nest deeper than the text does
        return super().construct_document(node)

    def flatten_mapping(self, node):
        """Refuse YAML merge keys ('<<'): merged copies of aliased mappings can grow
        exponentially before anything is counted, and blocks do the same job safely."""
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise CostcalcError("YAML merge keys ('<<') are not supported; use a block "
                                    "for repeated layers", line=_mark(key_node)[0],
                                    column=_mark(key_node)[1])
            if key_node.tag == "tag:yaml.org,2002:value":  # as PyYAML does: '=' is a plain key
                key_node.tag = "tag:yaml.org,2002:str"


def _construct_map(loader, node):
    loader.flatten_mapping(node)
    out = Map()
    out.pos = _mark(node)
    out.key_pos = {}
    yield out
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise CostcalcError("a mapping key must be a plain value", line=_mark(key_node)[0],
                                column=_mark(key_node)[1]) from None
        if key in out:
            first = out.key_pos[key]
            raise CostcalcError(f"duplicate key '{key}' (first at line {first[0]})",
                                line=_mark(key_node)[0], column=_mark(key_node)[1])
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_pos[key] = _mark(key_node)


def _check_depth(root):
    """Refuse a node tree nested deeper than MAX_DEPTH, at the first node too deep in document
    order (where the parser's events would first pass the limit).

    Heights are memoised per node, so aliases (a DAG, or a cycle) cost linear time."""
    if not isinstance(root, _COLLECTIONS):
        return
    height: dict[int, int] = {}  # id -> levels of lists and mappings from it down (a scalar: 0)
    stack = [(root, None)]
    while stack:
        node, kids = stack.pop()
        if kids is not None:  # its lists and mappings are measured: it is one level more
            height[id(node)] = 1 + max(map(height.__getitem__, map(id, kids)), default=0)
        elif id(node) not in height:
            height[id(node)] = 1  # in progress: a cycle through an alias adds nothing
            kids = _collections_in(node)
            stack.append((node, kids))
            stack.extend((k, None) for k in kids if id(k) not in height)
    if height[id(root)] <= MAX_DEPTH:
        return
    node = root
    for level in range(1, MAX_DEPTH + 1):  # down to the first node at level MAX_DEPTH + 1
        kids = _collections_in(node)
        node = next((k for k in kids if height[id(k)] > MAX_DEPTH - level),
                    max(kids, key=lambda k: height[id(k)]))
    raise CostcalcError(f"YAML nesting is deeper than {MAX_DEPTH} levels", line=_mark(node)[0],
                        column=_mark(node)[1])


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
                raise CostcalcError(f"YAML nesting is deeper than {MAX_DEPTH} levels",
                                    line=_mark(event)[0], column=_mark(event)[1])
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


_COLLECTIONS = (yaml.MappingNode, yaml.SequenceNode)


def _collections_in(node) -> list:
    """The lists and mappings directly inside a node, keys included, in document order."""
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair if isinstance(n, _COLLECTIONS)]
    if isinstance(node, yaml.SequenceNode):
        return [n for n in node.value if isinstance(n, _COLLECTIONS)]
    return []


def _construct_int(loader, node):
    """YAML's int, with a length bound: Python refuses to read ints over 4,300 digits, and
    YAML 1.1's base-60 ints (1:20:30) take quadratic time when long."""
    text = loader.construct_scalar(node)
    if len(text) > MAX_NUMBER_CHARS:
        raise CostcalcError(f"a number written with {len(text):,} characters; the limit is "
                            f"{MAX_NUMBER_CHARS}", line=_mark(node)[0], column=_mark(node)[1])
    return loader.construct_yaml_int(node)


def _construct_str(loader, node):
    """YAML's str, refusing control characters other than line breaks and tab, lone surrogates
    and bidi overrides (YAML's escapes write them: "\\e[2J", "\\0", "\\ud800"): a name, label
    or note holding one would reach the terminal raw in every report."""
    text = loader.construct_scalar(node)
    bad = unprintable(text)
    if bad is not None:
        raise CostcalcError(f"text holds the control character U+{ord(bad):04X}; names, labels and "
                            "notes are plain text", line=_mark(node)[0], column=_mark(node)[1])
    return text


def _construct_seq(loader, node):
    out = Seq()
    out.pos = _mark(node)
    out.item_pos = [_mark(n) for n in node.value]
    yield out
    out.extend(loader.construct_object(n, deep=True) for n in node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def _expanded_size(root) -> int:
    """Number of nodes the document would have with every alias expanded (memoised, linear)."""
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        obj, done = stack.pop()
        if not isinstance(obj, (dict, list)):
            continue
        key = id(obj)
        if key in sizes and not done:
            continue
        children = list(obj.values()) if isinstance(obj, dict) else obj
        if done:
            total = 1
            for c in children:
                total += sizes.get(id(c), 1) if isinstance(c, (dict, list)) else 1
                if total > MAX_EXPANDED_NODES:
                    break
            sizes[key] = total
        else:
            sizes[key] = 1  # provisional: guards against self-referencing aliases
            stack.append((obj, True))
            stack.extend((c, False) for c in children if isinstance(c, (dict, list)))
    return sizes.get(id(root), 1)


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
            doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
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
    if _expanded_size(doc) > MAX_EXPANDED_NODES:  # first: nothing may walk or show a bomb
        raise CostcalcError(f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes", file=file)
    if not isinstance(doc, dict):
        raise CostcalcError(f"the top level must be a mapping of keys, not {describe(doc)}",
                            file=file, line=1, column=1)
    return doc


def load_yaml_file(path: str, what: str = "spec") -> Map:
    return parse_yaml(read_text(path, what), file=path, what=what)
