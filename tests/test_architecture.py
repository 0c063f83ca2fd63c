"""The package layout holds: no import cycles between costcalc's modules, and data flows one
way, ops → spec language → counting → expectations → paper / crosscheck / importing → reports
→ cli (ARCHITECTURE.md)."""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "costcalc"

#: each layer may import only the layers listed before it (and the shared leaf modules); ops
#: come first: the spec language reads layer arguments into the ops' own argument schemas
LAYERS = ["ops", "spec", "counting", "expectations", "paper", "crosscheck", "importing", "report",
          "cli"]
SHARED = {"errors", "units", "atomic", "gcpause", "registry"}


def module_of(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports() -> dict:
    """module -> set of costcalc modules it imports (at any depth: lazy imports count too)."""
    mods = {module_of(p): p for p in PKG.rglob("*.py")}
    out = {}
    for mod, path in mods.items():
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    deps.add(full if full in mods else base)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        out[mod] = {d for d in deps if d in mods and d != mod}
    return out


def test_no_import_cycles():
    graph, state, cycles = imports(), {}, []

    def visit(m, stack):
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(" → ".join(stack[stack.index(d):] + [d]))
            elif d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def layer(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else None


@pytest.mark.parametrize("mod", sorted(imports()))
def test_data_flows_one_way(mod):
    own = layer(mod)
    if own not in LAYERS:
        return  # costcalc itself (the public API) and the shared leaf modules
    allowed = set(LAYERS[: LAYERS.index(own) + 1]) | SHARED
    bad = sorted(d for d in imports()[mod] if layer(d) and layer(d) not in allowed)
    assert bad == [], f"{mod} imports a later layer: {bad}"


def test_every_registry_keyed_by_kind_refuses_duplicates():
    from costcalc import ops
    from costcalc.counting.metrics import METRICS
    from costcalc.crosscheck.builders import BUILDERS
    from costcalc.paper.presentation import PRESENTATION

    for registry, name in ((ops.REGISTRY, "conv"), (BUILDERS, "conv"), (PRESENTATION, "conv"),
                           (METRICS, "macs")):
        with pytest.raises(ValueError, match="registered twice"):
            registry.add(name, object())


def test_a_convention_overrides_one_kinds_rule_for_one_run():
    import costcalc
    from costcalc.counting import conventions

    spec = {"input": [4, 6, 6], "layers": [{"conv": {"out": 2, "kernel": 3}}, "relu"]}
    # conv 2*4*4 outputs * 4*9 = 1,152 MACs; the override counts relu as 1 per element: 32
    elementwise = conventions.get("macs").override("relu", lambda a, ins, out, cost: cost.elementops)
    r = costcalc.analyze(spec, convention=elementwise)
    assert [l.ops for l in r.layers] == [1_152, 32]
    assert [l.ops for l in costcalc.analyze(spec).layers] == [1_152, 0]  # the registry's own
    with pytest.raises(Exception, match="unknown layer kind 'rleu'"):
        conventions.get("macs").override("rleu", lambda *a: 0)
