"""`costcalc analyze --train`: one training step per layer and in total, training memory,
checkpointing and a whole run; as text lines (shared), markdown, json and a rich table."""
from __future__ import annotations

from costcalc.counting.training import TRAIN_METRICS
from costcalc.units import exact, human

#: (metric, column title) of the per-layer table; every title names its unit
COLUMNS = (("forward_macs", "forward MACs"), ("grad_input_macs", "grad-input MACs"),
           ("grad_weight_macs", "grad-weight MACs"), ("train_flops", "train FLOPs"),
           ("saved_bytes", "saved bytes"))


def title(r) -> str:
    t = r.training
    shape = "×".join(map(str, r.input))
    return (f"{r.name} training step: input {shape}, batch {r.batch}, {t.optimizer}, "
            f"{t.precision}")


def train_csv(results) -> str:
    """`analyze --train --format csv`: one line per layer of the step, exact integers (units in
    the header: MACs are multiply-accumulates), then the total; several models are stacked."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = [m for m, _, _ in TRAIN_METRICS]
    w.writerow(["model", "layer", "kind", "grad_input", *names])
    for r in results:
        t = r.training
        for l in t.layers:
            w.writerow([r.name, l.name, l.kind, int(l.grad_input), *(l.values[m] for m in names)])
        w.writerow([r.name, "TOTAL", "", "", *(t.totals[m] for m in names)])
    return buf.getvalue()


def groups(r, depth=None) -> list:
    """(name, kind, values) per row: each layer, or with ``depth`` N, each run of layers nested
    deeper than N path levels merged into its block's row (saved bytes: each storage once)."""
    t = r.training
    if depth is None:
        return [(l.name, l.kind, l.values) for l in t.layers]
    out, run = [], []

    def flush():
        if run:
            prefix = "/".join(run[0].name.split("/")[:depth])
            values = {m: sum(l.values[m] for l in run) for m, _ in COLUMNS}
            values["saved_bytes"] = t.held(run)
            inst = r.graph.instances.get(prefix)
            kind = f"block {inst.block}" if inst is not None and inst.block else "repeat"
            out.append((prefix, kind, values))
            run.clear()

    for l in t.layers:
        parts = l.name.split("/")
        if len(parts) <= depth:
            flush()
            out.append((l.name, l.kind, l.values))
        else:
            if run and run[0].name.split("/")[:depth] != parts[:depth]:
                flush()
            run.append(l)
    flush()
    return out


def rows(r, depth=None) -> list:
    return [[name, kind] + [human(v[m]) for m, _ in COLUMNS] for name, kind, v in groups(r, depth)]


def total_row(r) -> list:
    return ["total", ""] + [human(r.training.totals[m]) for m, _ in COLUMNS]


def _b(n: int) -> str:
    return f"{exact(n)} bytes ({human(n)}B)"


def lines(r) -> list[str]:
    """The totals, memory, checkpointing and run, exact and human, each with its unit."""
    t = r.training
    tot, mem = t.totals, t.memory
    no_grad_in = [l.name for l in t.layers if l.kind in ("conv", "linear") and not l.grad_input]
    label = {m: lab for m, lab, _ in TRAIN_METRICS}
    out = [
        f"{label['forward_macs']}: {exact(tot['forward_macs'])} ({human(tot['forward_macs'])}) "
        "multiply-accumulates",
        f"{label['backward_macs']}: {exact(tot['backward_macs'])} ({human(tot['backward_macs'])}) = "
        f"grad-input {exact(tot['grad_input_macs'])} + grad-weight {exact(tot['grad_weight_macs'])} "
        "multiply-accumulates",
    ]
    if no_grad_in:
        out.append(f"No grad-input (no input needs a gradient) for {', '.join(no_grad_in[:4])}"
                   + (f" and {len(no_grad_in) - 4} more" if len(no_grad_in) > 4 else ""))
    if t.checkpoint is not None:
        ck = t.checkpoint
        out.append(f"Recompute MACs (checkpointing {', '.join(ck.segments[:4])}"
                   f"{' ...' if len(ck.segments) > 4 else ''}): {exact(ck.recompute_macs)} "
                   f"({human(ck.recompute_macs)}) multiply-accumulates, the segments' forward again")
        out.append(f"{label['train_flops']}: {exact(tot['train_flops'])} ({human(tot['train_flops'])}) "
                   f"FLOPs per step, recompute included: 2 × (forward + recompute + backward MACs)")
    else:
        out.append(f"{label['train_flops']}: {exact(tot['train_flops'])} ({human(tot['train_flops'])}) "
                   "FLOPs per step")
    out.append(f"Saved for backward: {_b(tot['saved_bytes'])}, each storage once (a view, or a "
               "tensor two layers save, is held once)")
    if t.checkpoint is not None:
        out.append(f"With checkpointing: {_b(t.checkpoint.stored_bytes)} stored through the forward "
                   f"pass, peak {_b(t.checkpoint.peak_bytes)} (stored + the largest segment rebuilt)")
    parts = [("weights", "weights_bytes"), ("fp32 master weights", "master_weights_bytes"),
             ("gradients", "gradient_bytes"), (f"{t.optimizer} state", "optimizer_bytes"),
             ("saved activations", "saved_activation_bytes")]
    out.append(f"Memory ({t.optimizer}, {t.precision}): {_b(mem['total_bytes'])} =")
    out.append("  " + " + ".join(f"{name} {exact(mem[k])}" for name, k in parts
                                 if mem[k] or k != "master_weights_bytes"))
    out.append(f"Params: {exact(tot['params'])}, trainable {exact(tot['trainable_params'])}")
    if t.inference:
        inf = t.inference
        out.append(f"Inference graph: the layers reaching {inf['output']} "
                   f"({', '.join(inf['training_only'])}: training only)")
        out.append(f"  params {exact(inf['params'])} (training {tot['params'] - inf['params']:+,}), "
                   f"forward MACs {exact(inf['forward_macs'])} (training "
                   f"{tot['forward_macs'] - inf['forward_macs']:+,})")
    if t.run:
        out += run_lines(t.run)
    return out


def run_lines(run: dict) -> list[str]:
    n, unit = run["data"], run["data_unit"]
    flops, rule = run["flops"], run["rule_6nd_flops"]
    one = unit[:-1]
    days = lambda key: f", {run[key]:,.2f} days" if key in run else ""  # noqa: E731
    out = [f"Run: {exact(n)} {unit}: {flops:,} FLOPs ({flops:.3e})"
           + (f", of which recompute {run['recompute_flops']:,}" if "recompute_flops" in run else ""),
           f"6·N·D rule: {exact(rule)} FLOPs ({rule:.3e}){days('rule_6nd_days')}; the exact count "
           f"is {run['ratio_to_6nd']:.4f}× it"]
    if "rule_8nd_flops" in run:
        out.append(f"8·N·D (6·N·D with every layer's forward recomputed, Narayanan et al. 2021): "
                   f"{exact(run['rule_8nd_flops'])} FLOPs ({run['rule_8nd_flops']:.3e})"
                   f"{days('rule_8nd_days')}")
    out += [f"  6·N·D: 2 FLOPs forward and 4 backward per parameter per {one}, exact for a weight "
            f"used once per {one};",
            "  a conv weight is used at every output position and attention's products have no "
            "weights (more than the rule),",
            "  the first layer needs no grad-input and embeddings have weights but no MACs (less)"]
    if "seconds" in run:
        s = run["seconds"]
        out.append(f"Time at {run['throughput_tflops']} TFLOP/s × MFU {run['mfu']} × "
                   f"{run['devices']:,} device(s): {s:,.0f} s = {s / 3600:,.1f} hours = "
                   f"{run['days']:,.2f} days; {run['device_hours']:,.0f} device-hours")
    return out


def train_markdown(results, depth=None) -> str:
    from costcalc.report.text import md_table

    parts = []
    for r in results:
        header = ["layer", "kind"] + [c for _, c in COLUMNS]
        table = md_table(header, rows(r, depth) + [["**total**", ""] + total_row(r)[2:]])
        parts.append(f"### {title(r)}\n\n{table}\n\n" + "\n".join(f"- {s}" for s in lines(r)))
    return "\n\n".join(parts) + "\n"


def train_json(results) -> dict:
    from costcalc.report.verdicts import analyze_json

    return analyze_json(results)


def print_train(results, depth=None, out=None):
    from rich import box
    from rich.table import Table

    from costcalc.report.plaintable import print_table
    from costcalc.report.table import console

    out = out or console()
    for i, r in enumerate(results):
        if i:
            out.print()
        table = Table(title=title(r), box=box.SIMPLE_HEAD, show_footer=True, title_justify="left")
        foot = total_row(r)
        for j, col in enumerate(["layer", "kind"] + [c for _, c in COLUMNS]):
            table.add_column(col, footer=foot[j], justify="right" if j > 1 else "left",
                             overflow="fold" if j == 0 else "ellipsis")
        for row in rows(r, depth):
            table.add_row(*row)
        print_table(out, table)
        for line in lines(r):
            out.print(line)


# -- verify --train -------------------------------------------------------------------------

VERIFY_COLUMNS = ["layer", "kind", "train FLOPs", "FlopCounterMode FLOPs", "saved bytes",
                  "autograd saved bytes", "status"]


def _status(l) -> str:
    if not l.match:
        return "MISMATCH"
    return "ok (tool overcount)" if l.tool_error else "ok"


def verify_rows(c) -> list:
    return [[l.name, l.kind, exact(l.train_flops), exact(l.flopcounter), exact(l.saved),
             exact(l.real_saved), _status(l)] for l in c.layers]


def verify_lines(c) -> list[str]:
    t = c.totals
    r = c.result
    errors = [l for l in c.layers if l.tool_error]
    head = (f"{r.name}: {'OK' if c.ok else 'MISMATCH'}; {len(c.layers)} layers, batch {r.batch}, "
            f"forward + loss.sum().backward() in train mode on meta; torch {c.versions['torch']}")
    out = [head,
           f"Train FLOPs: exact {exact(t['train_flops'])}; FlopCounterMode {exact(t['flopcounter'])} "
           f"(predicted {exact(t['predicted_flopcounter'])}"
           + (f": {exact(t['tool_overcount'])} FLOPs of its known overcount on {len(errors)} grouped "
              "conv(s)" if errors else "") + ")",
           f"Saved for backward: {exact(t['saved_bytes'])} bytes; autograd (saved_tensors_hooks, "
           f"each storage once, weights and buffers left out) {exact(t['real_saved_bytes'])} bytes",
           f"[{'ok' if t['ok']['flopcounter'] else 'FAIL'}] FlopCounterMode forward + backward = "
           f"predicted: {sum(l.flops_ok for l in c.layers)}/{len(c.layers)} layers, total "
           f"{'equal' if t['ok']['flopcounter'] else 'differs'}",
           f"[{'ok' if t['ok']['saved'] else 'FAIL'}] saved bytes = autograd's: "
           f"{sum(l.saved_ok for l in c.layers)}/{len(c.layers)} layers, total "
           f"{'equal' if t['ok']['saved'] else 'differs'}"]
    for l in c.layers:
        out += [f"{l.name}: {n}" for n in l.notes]
    return out


def print_verify_train(checks, out=None):
    from rich import box
    from rich.table import Table

    from costcalc.report.plaintable import print_table
    from costcalc.report.table import console

    out = out or console()
    for i, c in enumerate(checks):
        if i:
            out.print()
        table = Table(title=f"verify --train {c.result.name}: input "
                            f"{'×'.join(map(str, c.result.input))}, batch {c.result.batch}",
                      box=box.SIMPLE_HEAD, title_justify="left")
        for j, col in enumerate(VERIFY_COLUMNS):
            table.add_column(col, justify="right" if 1 < j < 6 else "left",
                             overflow="fold" if j == 0 else "ellipsis")
        for row in verify_rows(c):
            table.add_row(*row)
        print_table(out, table)
        for line in verify_lines(c):
            out.print(line)
    ok = all(c.ok for c in checks)
    out.print(f"verify --train: {'all' if ok else 'not all'} {len(checks)} model(s) agree exactly "
              "with FlopCounterMode (its known overcounts predicted) and autograd's saved tensors")


def verify_train_markdown(checks) -> str:
    from costcalc.report.text import md_table

    return "\n\n".join(f"### verify --train {c.result.name}\n\n"
                       + md_table(VERIFY_COLUMNS, verify_rows(c)) + "\n\n"
                       + "\n".join(f"- {s}" for s in verify_lines(c)) for c in checks) + "\n"
