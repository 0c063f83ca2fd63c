"""Renderers for `costcalc verify`: a rich table (rich imported only when one is printed),
markdown, and the plain summary lines both share."""
from __future__ import annotations

from costcalc.units import exact
from costcalc.report.text import md_table, shape_text

HEADER = ("layer", "kind", "analytic", "fvcore", "FlopCounterMode", "params", "numel", "output",
          "real output", "status")


def _n(v) -> str:
    return "—" if v is None else exact(v)


def layer_cells(l) -> list[str]:
    status = "ok" if l.match else "MISMATCH"
    notes = "; ".join(l.notes)
    return [l.name, l.kind, exact(l.ops), _n(l.fvcore_ops), exact(l.flopcounter_ops), exact(l.params),
            exact(l.numel), shape_text(l.shape), shape_text(l.real_shape),
            f"{status}: {notes}" if notes else status]


def _mark(ok) -> str:
    return "not checked" if ok is None else ("ok" if ok else "MISMATCH")


def summary_lines(c) -> list[str]:
    """Totals, the convention's claims, fvcore's skipped operators and every mismatch."""
    r, t, unit = c.result, c.totals, c.convention.unit
    v = ", ".join(f"{k} {ver}" for k, ver in c.versions.items())
    n = len(c.layers)
    lines = [f"{r.name}: {'OK, exact agreement' if c.ok else 'MISMATCH'}; {n} layer{'s' * (n != 1)}, "
             f"convention {c.convention.name} (unit: {unit}), batch {r.batch}; {v}"]
    fv = t["fvcore"]
    lines.append(f"{unit}: analytic {exact(t['analytic']['macs'])}, fvcore {_n(fv['macs'])}"
                 f" (raw {_n(fv['raw'])}), FlopCounterMode {exact(t['flopcounter']['macs'])}"
                 f" (raw {exact(t['flopcounter']['raw'])} FLOPs)")
    lines.append(f"Params: analytic {exact(t['analytic']['params'])}, numel "
                 f"{exact(t['torch']['params'])}, fvcore parameter_count {exact(fv['params'])}")
    for cl in c.claims:
        scope = f"{cl.layers_ok}/{cl.layers} layers" if cl.ok is not None else "fvcore did not run"
        if cl.excluded:
            scope += " (not " + ", ".join(f"{n} {k}" for k, n in sorted(cl.excluded.items())) + ")"
        total = {True: ", total equal", False: ", total DIFFERS"}.get(cl.total_ok, "")
        lines.append(f"[{_mark(cl.ok)}] {cl.text}: {scope}" + (total if cl.has_total else ""))
    if c.fvcore_note:
        lines.append(c.fvcore_note)
    for s in c.skipped:
        where = ", ".join(s.layers[:3]) + (f", … ({len(s.layers)} layers)" if len(s.layers) > 3 else "")
        verdict = (f"free under {c.convention.name} (0 {unit} on those layers), as expected" if s.free
                   else f"fvcore has no handle for it, so its figure lacks their "
                        f"{exact(s.missed)} {unit}; costcalc and FlopCounterMode count them (not a "
                        f"mismatch: the fvcore convention predicts 0 there)")
        lines.append(f"fvcore skipped {s.op} ×{s.count} in {'/'.join(s.kinds) or 'the model'} "
                     f"({where}): {verdict}")
    if c.silent:
        kinds = ", ".join(f"{k} ({n} layer{'s' * (n != 1)})" for k, n in c.silent.items())
        lines.append(f"fvcore also ignores, without listing it as skipped: {kinds}: free under "
                     f"{c.convention.name}, as expected")
    for l in c.mismatches:
        lines.append(f"MISMATCH layer '{l.name}' ({l.kind}): {'; '.join(l.notes)}")
    for name, ok in t["ok"].items():
        if ok is False:
            lines.append(f"MISMATCH total: {name}")
    return lines


def verdict_line(checks) -> str:
    bad = [c.result.name for c in checks if not c.ok]
    if bad:
        return f"verify: MISMATCH in {', '.join(bad)} ({len(bad)} of {len(checks)} models)"
    unchecked = [c.result.name for c in checks if c.fvcore_note]
    tools = "FlopCounterMode" + (f" (fvcore did not run on {', '.join(unchecked)})" if unchecked
                                 else " and fvcore")
    return f"verify: all {len(checks)} model(s) agree exactly with {tools}"


def verify_markdown(checks) -> str:
    parts = []
    for c in checks:
        unit = c.convention.unit
        header = list(HEADER)
        header[2:5] = [f"analytic ({unit})", f"fvcore ({unit})", f"FlopCounterMode ({unit})"]
        rows = [[("**" + x + "**") if not l.match and i == 9 else x
                 for i, x in enumerate(layer_cells(l))] for l in c.layers]
        parts.append(f"### verify {c.result.name}\n\n" + md_table(header, rows) + "\n\n"
                     + "\n".join(f"- {s}" for s in summary_lines(c)))
    return "\n\n".join(parts) + f"\n\n{verdict_line(checks)}\n"


def verify_json(checks) -> dict:
    """`costcalc verify --format json`."""
    from costcalc.crosscheck.agreement import report_dict

    return report_dict(checks)


def print_verify(checks, out=None):
    from rich import box
    from rich.table import Table

    from costcalc.report.plaintable import print_table
    from costcalc.report.table import console

    out = out or console()
    for i, c in enumerate(checks):
        if i:
            out.print()
        unit = c.convention.unit
        table = Table(title=f"verify {c.result.name}: input {shape_text(c.result.input)}, batch "
                            f"{c.result.batch}, {c.convention.name} convention, counts in {unit} (fvcore's "
                            "extra batchnorm/pool counts shown as fvcore counts them)",
                      box=box.SIMPLE_HEAD, title_justify="left")
        for j, h in enumerate(HEADER):
            table.add_column(h, justify="right" if 2 <= j <= 8 else "left", overflow="fold")
        for l in c.layers:
            table.add_row(*layer_cells(l), style=None if l.match else "bold red")
        print_table(out, table)
        for line in summary_lines(c):
            out.print(line, style="bold red" if "MISMATCH" in line else None, markup=False)
    out.print(verdict_line(checks), style=None if all(c.ok for c in checks) else "bold red",
              markup=False)
