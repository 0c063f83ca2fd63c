"""The layer graph as inline SVG: a layered, top-to-bottom drawing with block instances as groups.

No layout library: the spec already gives what a layered (Sugiyama-style) layout computes. The
expansion is in topological order (``from:`` names only layers above), so each node's rank is one
pass of longest path from the input; block instances are contiguous runs of that order, so each
group is laid out on its own (recursively) and then placed as one box among its siblings; spec
order within a rank (branches as the author wrote them) stands in for crossing reduction; each
node sits under the mean centre of its inputs (the barycentre rule), and an edge that skips
ranks gets a dummy point in each rank it crosses, as in Sugiyama's method, so it runs between
the boxes.

The drawing is capped at ``MAX_BOXES`` boxes: blocks start collapsed to one box and are opened
outermost first while the cap allows, so a 10,000-layer spec draws a bounded picture.
"""
from __future__ import annotations

from costcalc.counting.graph import node_of
from costcalc.units import exact, human
from costcalc.report.svg import esc, fit
from costcalc.report.text import shape_text

MAX_BOXES = 400
BOX_W, BOX_H = 150, 34
GAP_X, GAP_Y = 14, 26
PAD, HEAD = 10, 18
INPUT = "input"


class _View:
    """What to draw: each scope's children in order, which groups are open, the edges."""

    def __init__(self, result, max_boxes: int):
        self.result = result
        inst = result.instances
        self.inst = inst
        self.children: dict[str, list] = {"": [("layer", INPUT)]}
        self.size: dict[str, int] = {}  # layers inside each instance
        self.scope_of: dict[str, str] = {INPUT: ""}
        self.layers = {l.name: l for l in result.layers}
        for path in inst:
            self.children[path] = []
            self.size[path] = 0
        seen = set()
        for layer in result.layers:
            chain, s = [], layer.scope
            while s and s not in seen:
                seen.add(s)
                chain.append(s)
                s = inst[s].parent
            for sc in reversed(chain):
                self.children[inst[sc].parent].append(("block", sc))
            self.children[layer.scope].append(("layer", layer.name))
            self.scope_of[layer.name] = layer.scope
            s = layer.scope
            while s:
                self.size[s] += 1
                s = inst[s].parent
        self.opened = self._open(max_boxes)
        self.hidden = 0  # top-level items beyond the cap, not drawn
        self.marker = "arrow"  # the arrowhead's id

    def _open(self, max_boxes: int) -> set:
        """Open groups outermost first while the number of drawn boxes stays within the cap."""
        opened: set = set()
        boxes = len(self.children[""])
        queue = [p for kind, p in self.children[""] if kind == "block"]
        for path in queue:  # grows as groups open: breadth first
            n = len(self.children[path])
            if boxes - 1 + n + 1 > max_boxes:  # the group's frame counts as a box
                continue
            opened.add(path)
            boxes += n
            queue.extend(p for kind, p in self.children[path] if kind == "block")
        return opened

    def chain(self, path: str) -> list:
        """Scopes from the top down to the one holding ``path`` (a layer)."""
        out, s = [], self.scope_of[path]
        while s:
            out.append(s)
            s = self.inst[s].parent
        return [""] + out[::-1]

    def visible_child(self, scope: str, path: str) -> str | None:
        """The child of ``scope`` (a layer path or an instance path) that contains ``path``."""
        chain = self.chain(path)
        if scope not in chain:
            return None
        i = chain.index(scope)
        return chain[i + 1] if i + 1 < len(chain) else path


def graph_svg(result, max_boxes: int = MAX_BOXES, uid: str = "g") -> tuple[str, dict]:
    """(the SVG text, facts about what was drawn: boxes, groups, collapsed, hidden). ``uid``
    makes the SVG's ids unique in a page of several graphs."""
    view = _View(result, max_boxes)
    view.marker = f"{uid}-arrow"
    top = view.children[""]
    if len(top) > max_boxes:
        view.hidden = len(top) - max_boxes
        view.children[""] = top[:max_boxes]
    edges: dict[str, dict] = {}  # scope -> {(source child, target child): None}
    inbound: dict[str, dict] = {}  # scope -> {child fed from outside the scope: None}, in order
    for layer in result.layers:
        for src in layer.inputs:  # one output of a split ('parts.1') is drawn from its node
            _route(view, node_of(src), layer.name, edges, inbound)
    stats = {"boxes": 0, "groups": 0, "collapsed": 0, "hidden": view.hidden}
    w, h, body = _scope(view, "", edges, inbound, stats)
    svg = (f'<svg class="graph" width="{w + 2 * PAD}" height="{h + 2 * PAD}" '
           f'viewBox="0 0 {w + 2 * PAD} {h + 2 * PAD}">'
           f'<defs><marker id="{view.marker}" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="ah"/></marker></defs>'
           f'<g transform="translate({PAD},{PAD})">{body}</g></svg>')
    return svg, stats


def _route(view, src, dst, edges, inbound):
    """Record edge src → dst in the innermost open scope holding both ends, and mark the groups
    it enters from outside (their children get a stub from the group's top)."""
    a = view.chain(src) if src != INPUT else [""]
    b = view.chain(dst)
    common = ""
    for x, y in zip(a, b):
        if x != y:
            break
        common = x
    # the ends must be visible at `common`: every scope above it on both sides is open
    for s in b[1:b.index(common) + 1]:
        if s not in view.opened:
            return  # inside a collapsed group: not drawn
    s_child = view.visible_child(common, src) if src != INPUT else INPUT
    d_child = view.visible_child(common, dst)
    if s_child == d_child or s_child is None or d_child is None:
        return
    edges.setdefault(common, {})[s_child, d_child] = None  # a dict: ordered, each pair once
    scope = d_child
    while scope in view.opened:  # entering open groups from outside: stubs down to the target
        inner = view.visible_child(scope, dst)
        inbound.setdefault(scope, {})[inner] = None
        scope = inner


def _scope(view, scope, edges, inbound, stats):
    """Lay out one scope's children; returns (width, height, SVG body in local coordinates)."""
    items = view.children[scope]
    index = {path: i for i, (_, path) in enumerate(items)}
    rank: dict[str, int] = {}
    preds: dict[str, list] = {}
    for s, d in edges.get(scope, []):
        if s in index and d in index:
            preds.setdefault(d, []).append(s)
    sized = []
    for kind, path in items:
        rank[path] = max((rank[p] + 1 for p in preds.get(path, ()) if p in rank), default=0)
        if kind == "block" and path in view.opened:
            inner, h, body = _scope(view, path, edges, inbound, stats)
            w = max(inner + 2 * PAD, BOX_W, 16 + CHAR_W * len(_group_label(view, path)))
            h += 2 * PAD + HEAD
            sized.append((path, kind, w, h, (inner, body)))
            stats["groups"] += 1
        else:
            sized.append((path, kind, BOX_W, BOX_H, None))
            stats["boxes"] += 1
            stats["collapsed"] += kind == "block"
    rows: dict[int, list] = {}
    for entry in sized:
        rows.setdefault(rank[entry[0]], []).append(entry)
    # edges that enter the group from its top edge, to a child below the first rank, are routed
    # like the others: TOP stands for the group's input, one rank above its first
    routes = _dummies(list(edges.get(scope, ())) + [(TOP, d) for d in inbound.get(scope, ())],
                      {**rank, TOP: -1}, rows, preds)
    pos = _place(rows, preds)
    parts = [_box(view, path, kind, *pos[path], body) for row in rows.values()
             for path, kind, w, h, body in row if kind != "dummy"]
    width = max((x + w for x, _, w, _ in pos.values()), default=0)
    height = max((y + h for _, y, _, h in pos.values()), default=0)
    row_h = {r: max(e[3] for e in row) for r, row in rows.items()}
    edge_parts = []
    for s, d in edges.get(scope, ()):
        if s in pos and d in pos:
            sx, sy, sw, sh = pos[s]
            dx, dy, dw, _ = pos[d]
            points = [(sx + sw / 2, sy + sh)]
            for dummy in routes.get((s, d), ()):  # straight down through each rank it crosses
                x, y, _, _ = pos[dummy]
                points += [(x, y), (x, y + row_h[dummy[3]])]
            edge_parts.append(_curve(view.marker, points + [(dx + dw / 2, dy)]))
    for d in inbound.get(scope, ()):
        if d in pos:
            dx, dy, dw, _ = pos[d]
            points = []
            for dummy in routes.get((TOP, d), ()):
                x, y, _, _ = pos[dummy]
                points += [(x, y), (x, y + row_h[dummy[3]])]
            start = points[0][0] if points else dx + dw / 2
            edge_parts.append(_curve(view.marker, [(start, -PAD)] + points + [(dx + dw / 2, dy)]))
    return width, height, '<g class="edges">' + "".join(edge_parts) + "</g>" + "".join(parts)


MAX_SPAN = 40  # an edge across more ranks than this is drawn as one curve, without dummies
TOP = ("top",)  # a group's input, entering from its top edge
CHAR_W = 6.6  # px per character of a group's bold 11px label (an estimate, for its width)


def _dummies(edges, rank, rows, preds) -> dict:
    """Sugiyama's dummy nodes: an edge that skips ranks gets a zero-width point in each rank it
    crosses, placed like a node, so that it runs between boxes instead of through them.
    Returns {(source, target): [dummy, ...]}; the dummies join ``rows`` and ``preds``."""
    routes = {}
    for s, d in edges:
        if s not in rank or d not in rank or not 1 < rank[d] - rank[s] <= MAX_SPAN:
            continue
        chain, prev = [], s
        for r in range(rank[s] + 1, rank[d]):
            dummy = ("dummy", s, d, r)
            rows[r].append((dummy, "dummy", 0, 0, None))
            preds[dummy] = [prev]
            chain.append(dummy)
            prev = dummy
        preds[d] = [p for p in preds.get(d, ()) if p != s] + [prev]
        routes[s, d] = chain
    return routes


def _place(rows: dict, preds: dict) -> dict:
    """x, y, w, h of every child: rank by rank, each node under the mean centre of its
    predecessors (the barycentre heuristic), kept in that order without overlaps."""
    pos: dict[str, tuple] = {}
    y = 0
    for r in sorted(rows):
        row = rows[r]
        want = []
        for i, (path, _, w, h, _) in enumerate(row):
            centres = [pos[p][0] + pos[p][2] / 2 for p in preds.get(path, ()) if p in pos]
            want.append((sum(centres) / len(centres) if centres else None, i))
        # nodes without a predecessor in the scope keep their place after the ones before them
        last = 0.0
        keyed = []
        for c, i in want:
            last = c if c is not None else last
            keyed.append((last, i))
        right = None
        for c, i in sorted(keyed):
            path, _, w, h, _ = row[i]
            x = c - w / 2 if want[i][0] is not None else (right + GAP_X if right is not None else 0)
            if right is not None:
                x = max(x, right + GAP_X)
            pos[path] = (x, y, w, h)
            right = x + w
        y += max(e[3] for e in row) + GAP_Y
    left = min((x for x, _, _, _ in pos.values()), default=0)
    return {p: (x - left, y, w, h) for p, (x, y, w, h) in pos.items()}


def _curve(marker, points) -> str:
    """A path through ``points``: an S-curve between ranks (from points[0] to [1], [2] to [3],
    ...) and a straight line down through a rank ([1] to [2], ...), ending in an arrow."""
    (x, y), d = points[0], [f"M{points[0][0]:g},{points[0][1]:g}"]
    for i, (x2, y2) in enumerate(points[1:]):
        if i % 2:
            d.append(f"L{x2:g},{y2:g}")
        else:
            ym = (y + y2) / 2
            d.append(f"C{x:g},{ym:g} {x2:g},{ym:g} {x2:g},{y2:g}")
        x, y = x2, y2
    return f'<path d="{" ".join(d)}" marker-end="url(#{marker})"/>'


def _box(view, path, kind, x, y, w, h, body) -> str:
    short = path.rsplit("/", 1)[-1]
    if kind == "layer" and path == INPUT:
        r = view.result
        title = f"input {shape_text(r.input)}, batch {r.batch}"
        return (f'<g class="node input" transform="translate({x:g},{y:g})"><title>{esc(title)}</title>'
                f'<rect width="{w}" height="{h}" rx="4"/><text x="{w / 2:g}" y="14">input</text>'
                f'<text x="{w / 2:g}" y="27" class="sub">{esc(shape_text(r.input))}</text></g>')
    if kind == "layer":
        layer = view.layers[path]
        title = (f"{path} · {layer.kind} · {shape_text(layer.output)}\n{view.result.convention.unit}: "
                 f"{exact(layer.ops)}\nparams: {exact(layer.params)}\nactivations: {exact(layer.activations)}")
        return (f'<g class="node k-{esc(layer.kind)}" transform="translate({x:g},{y:g})">'
                f'<title>{esc(title)}</title><rect width="{w}" height="{h}" rx="4"/>'
                f'<text x="{w / 2:g}" y="14">{esc(fit(short, w - 8))}</text>'
                f'<text x="{w / 2:g}" y="27" class="sub">'
                f'{esc(fit(layer.kind + " " + shape_text(layer.output), w - 8, 5.6))}</text></g>')
    inst = view.inst[path]
    totals = view.result.scope_totals()[path]
    what = _what(inst)
    title = (f"{path} · {what} · {view.size[path]:,} layers\n{view.result.convention.unit}: "
             f"{exact(totals['ops'])}\nparams: {exact(totals['params'])}\n"
             f"activations: {exact(totals['activations'])}")
    if body is None:
        return (f'<g class="node collapsed" transform="translate({x:g},{y:g})"><title>{esc(title)}'
                f' (collapsed)</title><rect width="{w}" height="{h}" rx="4"/>'
                f'<text x="{w / 2:g}" y="14">{esc(fit(short, w - 8))}</text>'
                f'<text x="{w / 2:g}" y="27" class="sub">{esc(fit(f"{what} · {view.size[path]:,} layers", w - 8, 5.6))}'
                '</text></g>')
    return (f'<g class="group" transform="translate({x:g},{y:g})"><title>{esc(title)}</title>'
            f'<rect width="{w:g}" height="{h:g}" rx="6"/>'
            f'<text x="8" y="13" class="gname">{esc(_group_label(view, path))}</text>'
            f'<g transform="translate({(w - body[0]) / 2:g},{HEAD + PAD})">{body[1]}</g></g>')


def _what(inst) -> str:
    return f"block {inst.block}" if inst.block else "repeat"


def _group_label(view, path) -> str:
    """An open group's heading: 'inception_3a · block inception · 128.0M MACs'."""
    ops = view.result.scope_totals()[path]["ops"]
    return f"{path.rsplit('/', 1)[-1]} · {_what(view.inst[path])} · {human(ops)} {view.result.convention.unit}"
