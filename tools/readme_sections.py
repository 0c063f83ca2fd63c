"""Regenerate the README sections that costcalc itself produces.

    python tools/readme_sections.py            # rewrite every generated section in README.md
    python tools/readme_sections.py --check    # exit 1 if README.md is out of date (used by tests)

A generated section sits between two markers in README.md:

    <!-- BEGIN costcalc:NAME -->
    ...generated text...
    <!-- END costcalc:NAME -->

and is produced by the function registered here under NAME, which runs costcalc (the CLI via
subprocess, or the library) and returns markdown. The README is written atomically.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTIONS = {}


def section(name):
    """Register a generator: a function of no arguments returning the section's markdown."""
    def deco(fn):
        if name in SECTIONS:
            raise ValueError(f"section {name} registered twice")
        SECTIONS[name] = fn
        return fn
    return deco


def costcalc(*args) -> str:
    """stdout of `python -m costcalc ARGS` run at the repository root (fails loudly)."""
    import subprocess

    r = subprocess.run([sys.executable, "-m", "costcalc", *args], cwd=ROOT, capture_output=True,
                       text=True, env=dict(os.environ, COLUMNS="160"))
    if r.returncode not in (0, 1):
        raise SystemExit(f"costcalc {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


@section("quickstart")
def quickstart() -> str:
    out = costcalc("compare", "specs/naive.yaml", "specs/reduced.yaml")
    lines = "\n".join(l.rstrip() for l in out.rstrip().splitlines())
    return f"```console\n$ costcalc compare specs/naive.yaml specs/reduced.yaml\n{lines}\n```"


@section("kinds")
def kinds_table() -> str:
    sys.path.insert(0, str(ROOT))
    from costcalc import ops

    from costcalc.counting.conventions import tool_counts

    lines = ["| kind | arguments (default) | MACs (FlopCounterMode: 2 ×) | fvcore counts | element ops |",
             "|---|---|---|---|---|"]
    for n in ops.known():
        k = ops.get(n)
        a = ", ".join(f"`{key}`" + ("" if arg.required else f" ({arg.default})")
                      for key, arg in k.args.items()) or "—"
        fv = tool_counts(k)["fvcore"]
        lines.append(f"| `{n}`: {k.summary} | {a} | {k.macs_rule} | {fv} | {k.elementops_rule} |")
    return "\n".join(lines)


TRANSFORMERS = ("llm/gpt2.yaml", "llm/bert_base.yaml", "zoo/vit_b_16.yaml", "llm/llama2_7b.yaml",
                "llm/llama3_8b.yaml")


@section("transformers")
def transformers_table() -> str:
    import json

    rows = ["| spec | T | params | forward FLOPs (2 × MACs) | causal-half FLOPs | FLOPs per token | KV cache at bfloat16 | kaplan | chinchilla | palm (training) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for spec in TRANSFORMERS:
        d = json.loads(costcalc("analyze", f"specs/{spec}", "--format", "json", "--dtype", "bfloat16"))
        t, tf = d["totals"], d["transformer"]
        gaps = {a["name"]: f"{a['gap']:+.2%}" for a in tf["approximations"]}
        kv = f"{t['kv_cache_bytes']:,} B" if t["kv_cache_bytes"] else "— (no `attention` layer)"
        rows.append(f"| `{spec}` | {tf['dims']['tokens']:,} | {t['params']:,} | {t['flops']:,} | "
                    f"{tf['per_sequence']['flops_causal_half']:,} | {tf['per_token']['prefill_flops']:,} | "
                    f"{kv} | {gaps['kaplan']} | {gaps['chinchilla']} | {gaps['palm']} |")
    out = costcalc("analyze", "specs/llm/llama3_8b.yaml", "--set", "seq=1024", "--dtype", "bfloat16")
    tail = out.rstrip().splitlines()
    start = next(i for i, l in enumerate(tail) if l.startswith("Params:"))
    end = next(i for i, l in enumerate(tail) if l.startswith("≈ palm"))
    while end + 1 < len(tail) and tail[end + 1].strip():
        end += 1
    lines = "\n".join(l.rstrip() for l in tail[start:end + 1])
    return ("\n".join(rows) + "\n\n```console\n$ costcalc analyze specs/llm/llama3_8b.yaml --set seq=1024 "
            "--dtype bfloat16\n…\n" + lines + "\n```")


@section("table1")
def table1_markdown() -> str:
    out = costcalc("table", "specs/googlenet.yaml", "--format", "markdown")
    return out.replace("### googlenet: Table 1\n\n", "", 1).replace("#### Claims\n\n", "", 1)


@section("review-claims")
def review_claims() -> str:
    cmd = ("analyze", "specs/conv5x5_naive.yaml", "specs/conv5x5_reduced.yaml")
    return "```console\n$ costcalc " + " ".join(cmd) + "\n" + costcalc(*cmd).rstrip() + "\n```"


# -- Budgets and CI: a throwaway project, locked, then changed, checked for real ---------------

CHECK_DEMO_BUDGETS = """\
specs/inception.yaml:
  total: {params: 170K, macs: 130M}
  "inception_3a/b3*": {macs: 12M}          # the 5x5 branch: its reduce, conv and relus
  "block:inception": {activation_bytes: 4Mi}
"""


def _run_in(directory, *args) -> tuple[str, int]:
    import subprocess

    env = dict(os.environ, COLUMNS="160", PYTHONPATH=str(ROOT))
    env.pop("GITHUB_ACTIONS", None)
    r = subprocess.run([sys.executable, "-m", "costcalc", *args], cwd=directory, capture_output=True,
                       text=True, env=env)
    if r.returncode not in (0, 1):
        raise SystemExit(f"costcalc {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout, r.returncode


_DEMO = {}


def check_demo() -> dict:
    """Outputs of lock, a passing check and a failing check on a copy of specs/reduced.yaml."""
    if _DEMO:
        return _DEMO
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "specs").mkdir()
        (d / "pyproject.toml").write_text('[tool.costcalc]\nspecs = ["specs/*.yaml"]\n')
        spec = (ROOT / "specs" / "reduced.yaml").read_text()
        (d / "specs" / "inception.yaml").write_text(spec)
        (d / "costcalc-budgets.yaml").write_text(CHECK_DEMO_BUDGETS)
        _DEMO["lock"] = _run_in(d, "lock")[0]
        _DEMO["pass"] = _run_in(d, "check")
        old, new = "args: [64, 96, 128, 16, 32, 32]", "args: [64, 96, 128, 16, 48, 32]"
        assert old in spec
        (d / "specs" / "inception.yaml").write_text(spec.replace(old, new))
        _DEMO["fail"] = _run_in(d, "check")
        _DEMO["markdown"] = _run_in(d, "check", "--format", "markdown")
    return _DEMO


def _console(cmd, out_code) -> str:
    out, code = out_code
    return f"```console\n$ {cmd}\n{out.rstrip()}\n$ echo $?\n{code}\n```"


@section("check-budgets")
def check_budgets() -> str:
    return f"```yaml\n# costcalc-budgets.yaml\n{CHECK_DEMO_BUDGETS.rstrip()}\n```"


@section("check-pass")
def check_pass() -> str:
    demo = check_demo()
    return (f"```console\n$ costcalc lock\n{demo['lock'].rstrip()}\n```\n\n"
            + _console("costcalc check", demo["pass"]))


@section("check-fail")
def check_fail() -> str:
    return _console("costcalc check", check_demo()["fail"])


@section("check-markdown")
def check_markdown() -> str:
    return "````markdown\n" + check_demo()["markdown"][0].rstrip() + "\n````"


# -- Import a PyTorch model -------------------------------------------------------------------

IMPORT_TARGET = ("tests/models/cnn.py:ResNet34", "--input", "3,224,224")


@section("import")
def import_spec() -> str:
    cmd = ("import",) + IMPORT_TARGET
    return "```console\n$ costcalc " + " ".join(cmd) + "\n" + costcalc(*cmd).rstrip() + "\n```"


@section("import-analyze")
def import_analyze() -> str:
    cmd = ("analyze",) + IMPORT_TARGET + ("--depth", "1")
    return "```console\n$ costcalc " + " ".join(cmd) + "\n" + costcalc(*cmd).rstrip() + "\n```"


@section("import-gpt2")
def import_gpt2() -> str:
    cmd = ("analyze", "tests/models/gpt2.py:GPT2", "--input", "1024:int64", "--depth", "1")
    return "```console\n$ costcalc " + " ".join(cmd) + "\n" + costcalc(*cmd).rstrip() + "\n```"


def costcalc_stderr(*args) -> str:
    """stderr of a costcalc run that fails with exit 2 (bad input), for the README."""
    import subprocess

    r = subprocess.run([sys.executable, "-m", "costcalc", *args], cwd=ROOT, capture_output=True,
                       text=True, env=dict(os.environ, COLUMNS="160"))
    if r.returncode != 2:
        raise SystemExit(f"costcalc {' '.join(args)} was expected to fail with exit 2, got {r.returncode}")
    return r.stderr


@section("import-unknown")
def import_unknown() -> str:
    cmd = ("import", "tests/models/odd.py:Wavy", "--input", "3,8,8")
    allow = ("analyze", "tests/models/odd.py:Wavy", "--input", "3,8,8", "--allow-unknown", "-f", "csv")
    import subprocess

    r = subprocess.run([sys.executable, "-m", "costcalc", *allow], cwd=ROOT, capture_output=True,
                       text=True, env=dict(os.environ, COLUMNS="160"))
    return ("```console\n$ costcalc " + " ".join(cmd) + "\n" + costcalc_stderr(*cmd).rstrip()
            + "\n$ echo $?\n2\n$ costcalc " + " ".join(allow) + " 2>&1 >/dev/null\n"
            + r.stderr.rstrip() + "\n```")


@section("zoo")
def zoo_table() -> str:
    import json

    specs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs" / "zoo").glob("*.yaml"))
    runs = {conv: json.loads(costcalc("analyze", *specs, "--format", "json", "--convention", conv))["models"]
            for conv in ("macs", "fvcore")}
    lines = ["| model | spec | input | params | MACs | fvcore flops |", "|---|---|---|---:|---:|---:|"]
    for m, f in zip(runs["macs"], runs["fvcore"]):
        t = m["totals"]
        lines.append(f"| {m['name']} | `{m['file']}` | {'×'.join(map(str, m['input']))} | "
                     f"{t['params']:,} | {t['ops']:,} | {f['totals']['ops']:,} |")
    return "\n".join(lines)


# -- GoogLeNet among its peers ---------------------------------------------------------------

#: (spec, the paper it follows), in order of publication; ratios are against GoogLeNet (last)
PEERS = [
    ("specs/classic/lenet5.yaml", "LeCun et al. 1998"),
    ("specs/classic/alexnet_2012.yaml", "Krizhevsky et al. 2012"),
    ("specs/classic/nin_imagenet.yaml", "Lin et al. 2013"),
    ("specs/zoo/vgg16.yaml", "Simonyan & Zisserman 2014"),
    ("specs/googlenet.yaml", "Szegedy et al. 2014"),
]
#: the GoogLeNet variants whose cross-model claims (total and ratio claims) the section judges
GOOGLENETS = ["specs/googlenet.yaml", "specs/googlenet_table1.yaml"]


@section("peers")
def peers() -> str:
    import json

    googlenet, others = PEERS[-1][0], [s for s, _ in PEERS[:-1]]
    cmd = ("compare", googlenet, *others, "--format", "json")
    data = json.loads(costcalc(*cmd))
    models = {m["file"]: m for m in data["models"]}
    vs = {m["key"]: {v["model"]: v["text"] for v in m["vs_first"]} for m in data["metrics"]}
    lines = [f"`costcalc {' '.join(cmd[:-2])}`, with ratios against GoogLeNet. Params are weights "
             "+ biases; MACs are conv and linear multiply-accumulates, bias adds excluded; "
             "activations are the output elements of every layer; batch 1.", "",
             "| model | after | input | params | MACs | activations | params vs GoogLeNet "
             "| MACs vs GoogLeNet |", "|---|---|---|--:|--:|--:|---|---|"]
    for spec, paper in PEERS:
        m = models[spec]
        t, name = m["totals"], m["name"]
        ratio = ("—", "—") if spec == googlenet else (vs["params"][name], vs["ops"][name])
        lines.append(f"| [{name}]({spec}) | {paper} | {'×'.join(map(str, m['input']))} "
                     f"| {t['params']:,} | {t['macs']:,} | {t['activations']:,} "
                     f"| {ratio[0]} | {ratio[1]} |")
    lines += ["", "The GoogLeNet paper's claims against its peers, on the dense GoogLeNet and on "
              "Table 1's variant (separable conv1), from `costcalc table SPEC --format json` "
              "(claims on the whole model; the per-row Table 1 claims are in the Table 1 section):",
              "", "| spec | claim | metric | claimed | computed | verdict | why |",
              "|---|---|---|--:|--:|---|---|"]
    for spec in GOOGLENETS:
        table = json.loads(costcalc("table", spec, "--format", "json"))
        for c in table["claims"]:
            computed = (f"{c['numerator']:,} / {c['denominator']:,}" if "ratio" in c
                        else f"{c['computed']:,}")
            claimed = {"max": "≤ ", "min": "≥ "}.get(c.get("rule"), "") + c["claimed"]
            what = f"{c['metric']} {c['ratio']}" if "ratio" in c else f"{c['metric']} total"
            verdict = c["verdict"] + (" (informational)" if c["informational"] and c["verdict"]
                                      in ("mismatch", "over", "under", "missing") else "")
            lines.append(f"| [{table['name']}]({spec}) | {c['source']} | {what} | {claimed} "
                         f"| {computed} | {verdict} | {c['detail']}; {c['note']} |")
    return "\n".join(lines)


# -- Training cost -----------------------------------------------------------------------------

TRAIN_EXAMPLE = ("analyze", "specs/reduced.yaml", "--train")


@section("train-example")
def train_example() -> str:
    out = "\n".join(l.rstrip() for l in costcalc(*TRAIN_EXAMPLE).rstrip().splitlines())
    return "```console\n$ costcalc " + " ".join(TRAIN_EXAMPLE) + "\n" + out + "\n```"


def _train_json(*args) -> list:
    import json

    data = json.loads(costcalc("analyze", *args, "--train", "--format", "json"))
    return data["models"] if "models" in data else [data]


@section("train-googlenet")
def train_googlenet() -> str:
    specs = ("specs/googlenet.yaml", "specs/googlenet_train.yaml")
    runs = {p: dict(zip(specs, _train_json(*specs, "--precision", p))) for p in ("fp32", "mixed")}
    rows = [("params", "Params (weights + biases)", lambda m, t: t["totals"]["params"]),
            ("forward", "Forward MACs", lambda m, t: t["totals"]["forward_macs"]),
            ("bwd", "Backward MACs (grad-input + grad-weight)", lambda m, t: t["totals"]["backward_macs"]),
            ("flops", "Train FLOPs per step (2 × (forward + backward MACs))", lambda m, t: t["totals"]["train_flops"]),
            ("saved", "Saved for backward (bytes, fp32, batch 1)", lambda m, t: t["totals"]["saved_bytes"]),
            ("mem", "Memory with Adam, fp32 (bytes)", lambda m, t: t["memory"]["total_bytes"])]
    lines = ["`costcalc analyze specs/googlenet.yaml specs/googlenet_train.yaml --train --format json`: "
             "GoogLeNet at inference (the paper's test-time graph) and in training (its two "
             "auxiliary heads too), batch 1:", "",
             "| figure | inference graph | training graph | training − inference |", "|---|--:|--:|--:|"]
    for _, label, get in rows:
        a, b = (get(m, m["training"]) for m in (runs["fp32"][s] for s in specs))
        lines.append(f"| {label} | {a:,} | {b:,} | {b - a:+,} |")
    mixed = [runs["mixed"][s]["training"]["memory"]["total_bytes"] for s in specs]
    lines.append(f"| Memory with Adam, mixed precision (bytes) | {mixed[0]:,} | {mixed[1]:,} "
                 f"| {mixed[1] - mixed[0]:+,} |")
    return "\n".join(lines)


@section("train-zoo")
def train_zoo() -> str:
    specs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs" / "zoo").glob("*.yaml"))
    lines = ["| model | params | forward MACs | train FLOPs per step | train FLOPs / forward FLOPs "
             "| saved for backward (bytes) |", "|---|--:|--:|--:|--:|--:|"]
    for m in _train_json(*specs):
        t = m["training"]["totals"]
        lines.append(f"| {m['name']} | {t['params']:,} | {t['forward_macs']:,} | {t['train_flops']:,} "
                     f"| {t['train_flops'] / (2 * t['forward_macs']):.4f} | {t['saved_bytes']:,} |")
    return "\n".join(lines)


@section("train-verify")
def train_verify() -> str:
    out = costcalc("verify", "specs/zoo/mobilenet_v2.yaml", "--train")
    lines = out.rstrip().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("mobilenet_v2: "))
    first_note = next(i for i in range(start, len(lines)) if "known overcount" in lines[i])
    keep = lines[start:first_note + 2] + ["..."] + lines[-1:]
    return ("```console\n$ costcalc verify specs/zoo/mobilenet_v2.yaml --train\n...\n"
            + "\n".join(l.rstrip() for l in keep) + "\n```")


RUN_EXAMPLE = ("analyze", "specs/zoo/resnet18.yaml", "--train", "--samples", "1281167", "--epochs",
               "90", "--throughput", "312", "--mfu", "0.4", "--devices", "8")


@section("train-run")
def train_run() -> str:
    out = costcalc(*RUN_EXAMPLE).rstrip().splitlines()
    start = next(i for i, l in enumerate(out) if l.startswith("Run: "))
    return ("```console\n$ costcalc " + " ".join(RUN_EXAMPLE) + "\n...\n"
            + "\n".join(l.rstrip() for l in out[start:]) + "\n```")


MEGATRON = ("analyze", "specs/llm/gpt3_175b.yaml", "--train", "--checkpoint", "h/*", "--tokens",
            "300000000000", "--throughput", "140", "--devices", "1024", "--format", "json")


@section("train-megatron")
def train_megatron() -> str:
    import json

    sys.path.insert(0, str(ROOT))
    from costcalc.counting.training import megatron_flops

    m = json.loads(costcalc(*MEGATRON))
    t = m["training"]
    run = t["run"]
    formula = megatron_flops(300 * 10**9 // 2048, 2048, 96, 12288, 51200)
    rate = 1024 * 140 * 10**12
    lines = [f"`costcalc {' '.join(MEGATRON[:-2])}`:", "",
             "| count | FLOPs | days on 1,024 × 140 TFLOP/s |", "|---|--:|--:|",
             f"| costcalc, exact: {run['data']:,} tokens × its train FLOPs per token, every "
             f"layer recomputed (recompute {run['recompute_flops']:,}) | {run['flops']:,} | {run['days']:.2f} |",
             f"| Narayanan et al. 2021, 96·B·s·l·h²·(1 + s/6h + V/16lh) over 300B / 2048 sequences "
             f"| {formula:,} | {formula / rate / 86400:.2f} |",
             f"| their estimate 8·T·P with P = {t['totals']['params']:,} (\"34 days\") "
             f"| {run['rule_8nd_flops']:,} | {run['rule_8nd_days']:.2f} |",
             f"| 6·N·D (no recompute, no attention) | {run['rule_6nd_flops']:,} | {run['rule_6nd_days']:.2f} |"]
    same = "equal" if run["flops"] == formula else "NOT equal"
    lines += ["", f"costcalc's exact count and the paper's formula are {same}: the formula is "
              "exactly 4 × (24·h² + 4·s·h) FLOPs per token per layer (forward, recompute and a "
              "backward of twice the forward) plus 3 × 2·h·V for the logits, which is what "
              "costcalc counts layer by layer."]
    return "\n".join(lines)


@section("error-example")
def error_example() -> str:
    import subprocess

    spec = "examples/errors/kernel_too_large.yaml"
    r = subprocess.run([sys.executable, "-m", "costcalc", "analyze", spec], cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode != 2 or r.stderr.count("\n") != 1:
        raise SystemExit(f"costcalc analyze {spec} should fail with one line and exit 2: {r.stderr}")
    return f"```console\n$ costcalc analyze {spec}\n{r.stderr.strip()}\n$ echo $?\n2\n```"


def render(text: str) -> str:
    for name, fn in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN costcalc:{name} -->\n).*?(<!-- END costcalc:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no markers for section '{name}'")
        body = fn().strip("\n")
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main(argv) -> int:
    old = README.read_text()
    new = render(old)
    if "--check" in argv:
        if new != old:
            print("README.md is out of date: run python tools/readme_sections.py", file=sys.stderr)
            return 1
        return 0
    fd, tmp = tempfile.mkstemp(dir=ROOT, prefix=".README.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(new)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, README)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
