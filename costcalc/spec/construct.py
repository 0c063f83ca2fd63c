"""Building a spec's values from the YAML node tree libyaml composes: Map and Seq, which keep
the line and column of themselves and of each key and item (1-based), the rules every value
obeys, and the limits on the document once built (nesting through aliases, nodes after alias
expansion).

Two constructions give the same values and the same errors at the same positions:

- ``ReferenceLoader``: PyYAML's own constructor, node by node, with costcalc's constructors
  registered for mappings, lists, strings and ints, then the limits measured separately;
- ``Loader``: one walk over the nodes that builds Map/Seq/str/int directly, measures nesting
  and expanded size on the way, and hands any other tag (float, bool, null, timestamp, binary,
  an unknown one...) to PyYAML's constructor.

Only yaml's *safe* constructor is used, so Python-object tags are refused. Duplicate keys are
an error (PyYAML would silently keep the last one); so are merge keys.
"""
from __future__ import annotations

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from costcalc.errors import CostcalcError, unprintable

MAX_EXPANDED_NODES = 1_000_000  # nodes after alias expansion
MAX_NUMBER_CHARS = 100  # a whole number in YAML: at most this many characters
MAX_DEPTH = 100  # lists and mappings inside each other (a spec needs about 6)

try:  # the C loader is several times faster; both give marks
    Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    Base = yaml.SafeLoader


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


def mark(node) -> tuple[int, int]:
    """(line, column) where a node or a parser event starts, 1-based."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def _error(message: str, node) -> CostcalcError:
    line, column = mark(node)
    return CostcalcError(message, line=line, column=column)


# -- the rules every value obeys, whichever construction reads it --

def _refuse_merge_keys(node):
    """Refuse YAML merge keys ('<<'): merged copies of aliased mappings can grow
    exponentially before anything is counted, and blocks do the same job safely."""
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise _error("YAML merge keys ('<<') are not supported; use a block for repeated "
                         "layers", key_node)
        if key_node.tag == "tag:yaml.org,2002:value":  # as PyYAML does: '=' is a plain key
            key_node.tag = "tag:yaml.org,2002:str"


def _check_key(out: Map, key, key_node):
    try:
        hash(key)
    except TypeError:
        raise _error("a mapping key must be a plain value", key_node) from None
    if key in out:
        raise _error(f"duplicate key '{key}' (first at line {out.key_pos[key][0]})", key_node)


def _number_text(text: str, node) -> str:
    """A whole number's text, with a length bound: Python refuses to read ints over 4,300
    digits, and YAML 1.1's base-60 ints (1:20:30) take quadratic time when long."""
    if len(text) > MAX_NUMBER_CHARS:
        raise _error(f"a number written with {len(text):,} characters; the limit is "
                     f"{MAX_NUMBER_CHARS}", node)
    return text


def _plain_text(text: str, node) -> str:
    """YAML's str, refusing control characters other than line breaks and tab, lone surrogates
    and bidi overrides (YAML's escapes write them: "\\e[2J", "\\0", "\\ud800"): a name, label
    or note holding one would reach the terminal raw in every report."""
    bad = unprintable(text)
    if bad is not None:
        raise _error(f"text holds the control character U+{ord(bad):04X}; names, labels and "
                     "notes are plain text", node)
    return text


def _new_map(node) -> Map:
    out = Map()
    out.pos = mark(node)
    out.key_pos = {}
    return out


def _new_seq(node) -> Seq:
    out = Seq()
    out.pos = mark(node)
    out.item_pos = [mark(n) for n in node.value]
    return out


def too_deep(node) -> CostcalcError:
    """The nesting error, at a node or parser event."""
    return _error(f"YAML nesting is deeper than {MAX_DEPTH} levels", node)


def _too_many_nodes() -> CostcalcError:
    return CostcalcError(f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes")


# -- the limits on the document, measured on their own (the reference construction) --

_COLLECTIONS = (MappingNode, SequenceNode)


def _collections_in(node) -> list:
    """The lists and mappings directly inside a node, keys included, in document order."""
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair if isinstance(n, _COLLECTIONS)]
    if isinstance(node, SequenceNode):
        return [n for n in node.value if isinstance(n, _COLLECTIONS)]
    return []


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
    raise too_deep(node)


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


def _check_size(doc):
    if _expanded_size(doc) > MAX_EXPANDED_NODES:  # nothing may walk or show a bomb
        raise _too_many_nodes()


# -- PyYAML's constructor with costcalc's constructors --

def _construct_map(loader, node):
    loader.flatten_mapping(node)
    out = _new_map(node)
    yield out
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        _check_key(out, key, key_node)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_pos[key] = mark(key_node)


def _construct_seq(loader, node):
    out = _new_seq(node)
    yield out
    out.extend(loader.construct_object(n, deep=True) for n in node.value)


def _construct_int(loader, node):
    _number_text(loader.construct_scalar(node), node)
    return loader.construct_yaml_int(node)


def _construct_str(loader, node):
    return _plain_text(loader.construct_scalar(node), node)


class ReferenceLoader(Base):
    """PyYAML's constructor, node by node: nesting checked first (aliases can nest deeper than
    the text does), the expanded size of the objects last."""

    def construct_document(self, node):
        _check_depth(node)
        doc = super().construct_document(node)
        _check_size(doc)
        return doc

    def flatten_mapping(self, node):
        _refuse_merge_keys(node)


ReferenceLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
ReferenceLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
ReferenceLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
ReferenceLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)

# -- one walk over the nodes --

_MAP, _SEQ, _STR, _INT = (f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "str", "int"))
_MISSING = object()


class _Walk:
    """Builds one document depth-first in document order, as PyYAML's constructor does, and
    takes on the way the two measures ``_check_depth`` and ``_expanded_size`` take after it:

    - ``deepest``: the deepest level reached (the root is level 1), an alias of a list or
      mapping of height h at level L reaching L - 1 + h; a node's height is the deepest level
      below it, less its own level, plus one;
    - ``count``: nodes so far with every alias expanded (a mapping's keys not counted): each
      list or mapping counts what is in it as one node each, and an alias of one of size s adds
      the s - 1 more.

    PyYAML's own tables are the walk's: ``constructed_objects`` (node -> value, so an alias is
    the same object) and ``recursive_objects`` (lists and mappings being built, so an alias of
    one inside itself is PyYAML's "found unconstructable recursive node"), so a value PyYAML
    builds for the walk sees the same ones. A plain string is its node's own text, so it is not
    remembered: each alias of it gives the same object anyway."""

    def __init__(self, loader, root):
        self.loader, self.root = loader, root
        self.built, self.busy = loader.constructed_objects, loader.recursive_objects
        self.measured = {}  # list or mapping node -> (height, expanded size), for its aliases
        self.deepest, self.count = 1, 1
        self.depth_checked = False
        #: PyYAML built a list or a mapping: the document is measured the reference way
        self.foreign = False

    def check_depth(self):
        if not self.depth_checked:
            self.depth_checked = True
            _check_depth(self.root)

    def document(self):
        """The root's value, with the limits checked; the root is a plain mapping or list."""
        root = self.root
        try:
            out = _new_map(root) if root.tag == _MAP else _new_seq(root)
            # as PyYAML does, the root counts as built while what is in it is built (an alias of
            # it inside is the same object), and measures 1 there, as _check_depth and
            # _expanded_size measure a node still in progress
            self.built[root] = out
            self.measured[root] = (1, 1)
            self._fill(root, out, 1)
        except Exception:
            self.check_depth()  # nesting is refused before anything else, as in the reference
            raise
        if self.foreign:
            self.check_depth()
            _check_size(out)
        else:
            if self.deepest > MAX_DEPTH:
                self.check_depth()
            if self.count > MAX_EXPANDED_NODES:
                raise _too_many_nodes()
        return out

    def _value(self, node, level: int):
        """The value of any node but a plain string, at ``level``."""
        value = self.built.get(node, _MISSING)
        if value is not _MISSING:  # an alias, or a scalar PyYAML built
            height, size = self.measured.get(node, (0, 1))
            if height:
                self.deepest = max(self.deepest, level - 1 + height)
                self.count += size - 1
            return value
        kind, tag = type(node), node.tag
        if kind is ScalarNode:
            if tag == _INT:
                value = self.built[node] = self._int(node)
                return value
            value = self.loader.construct_object(node, deep=True)
            self.foreign = self.foreign or isinstance(value, (dict, list))
            return value
        if not (kind is MappingNode and tag == _MAP or kind is SequenceNode and tag == _SEQ):
            self.foreign = True  # its measures are not known
            return self.loader.construct_object(node, deep=True)
        if node in self.busy:
            raise ConstructorError(None, None, "found unconstructable recursive node",
                                   node.start_mark)
        if level > MAX_DEPTH:  # the root is deeper still: refused here, at the first node
            self.check_depth()
        self.busy[node] = None
        out = _new_map(node) if kind is MappingNode else _new_seq(node)
        deepest, count = self.deepest, self.count
        self.deepest = level
        self._fill(node, out, level)
        self.measured[node] = (self.deepest - level + 1,
                               min(self.count - count + 1, MAX_EXPANDED_NODES + 1))
        self.deepest = max(deepest, self.deepest)
        del self.busy[node]
        self.built[node] = out
        return out

    def _fill(self, node, out, level: int):
        """Build what is in a list or mapping."""
        inner, value_of = level + 1, self._value
        self.count += len(node.value)
        if type(out) is Seq:
            append = out.append
            for item in node.value:
                if item.tag == _STR and type(item) is ScalarNode:
                    value = item.value
                    if not value.isprintable():  # printable, the common case: no call
                        _plain_text(value, item)
                else:
                    value = value_of(item, inner)
                append(value)
            return
        _refuse_merge_keys(node)
        key_pos = out.key_pos
        for key_node, value_node in node.value:
            if key_node.tag == _STR and type(key_node) is ScalarNode:
                key = key_node.value
                if not key.isprintable():
                    _plain_text(key, key_node)
                if key in out:
                    _check_key(out, key, key_node)
            else:
                key = value_of(key_node, inner)
                _check_key(out, key, key_node)
            if value_node.tag == _STR and type(value_node) is ScalarNode:
                value = value_node.value
                if not value.isprintable():
                    _plain_text(value, value_node)
            else:
                value = value_of(value_node, inner)
            out[key] = value
            start = key_node.start_mark
            key_pos[key] = (start.line + 1, start.column + 1)

    def _int(self, node):
        text = _number_text(node.value, node)
        if text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1):
            return int(text)  # what construct_yaml_int gives a plain decimal
        return self.loader.construct_yaml_int(node)


class Loader(ReferenceLoader):
    """The reference's values and errors, in one walk over the nodes."""

    def __init__(self, stream):
        super().__init__(stream)
        self.plain_tags = {}  # a plain scalar's text -> its tag

    def resolve(self, kind, value, implicit):
        """PyYAML's tag for a node, remembered for each plain scalar's text: with no path
        resolvers (costcalc adds none), a plain scalar's tag depends on its text alone."""
        if kind is ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            tag = self.plain_tags.get(value)
            if tag is None:
                tag = self.plain_tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)

    def construct_document(self, node):
        if not (type(node) is MappingNode and node.tag == _MAP
                or type(node) is SequenceNode and node.tag == _SEQ):
            return super().construct_document(node)
        doc = _Walk(self, node).document()
        self.constructed_objects, self.recursive_objects = {}, {}
        return doc
