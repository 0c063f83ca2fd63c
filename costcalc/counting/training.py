"""One training step of a graph, and whole training runs: exact ints, no torch.

Per layer: forward MACs, backward MACs split into grad-input and grad-weight (the kinds' rules
in counting/backward.py), ``train_flops`` = 2 × (forward + backward MACs), and the bytes of the
tensors autograd saves for the backward pass. For the model: weights, gradients and optimizer
state at a precision, the saved activations (deduplicated by storage), activation
checkpointing with its recompute, and a run of many steps beside the 6·N·D rule.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from fractions import Fraction

from costcalc.counting import backward
from costcalc.counting.graph import node_of
from costcalc.errors import CostcalcError
from costcalc.ops.base import numel
from costcalc.spec.expand import INPUT

#: float32 optimizer states per trainable parameter (SGD none, momentum its velocity, Adam and
#: AdamW the first and second moments)
OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
#: bytes per parameter of (weights, fp32 master weights, gradients) and per activation element:
#: fp32 keeps everything in float32; mixed keeps float16 weights, gradients and activations
#: beside float32 master weights (Micikevicius et al. 2018; ZeRO's 16 bytes per parameter
#: with Adam, Rajbhandari et al. 2020, §3.1)
PRECISIONS = {"fp32": (4, 0, 4, 4), "mixed": (2, 4, 2, 2)}
STATE_BYTES = 4

#: (name, how it is printed, unit) of each per-layer training figure, in table order
TRAIN_METRICS = (
    ("forward_macs", "Forward MACs", "multiply-accumulates"),
    ("grad_input_macs", "Grad-input MACs", "multiply-accumulates"),
    ("grad_weight_macs", "Grad-weight MACs", "multiply-accumulates"),
    ("backward_macs", "Backward MACs (grad-input + grad-weight)", "multiply-accumulates"),
    ("train_flops", "Train FLOPs (2 × (forward + backward MACs))", "FLOPs"),
    ("saved_bytes", "Saved for backward (bytes)", "bytes"),
)
TRAIN_NAMES = tuple(m[0] for m in TRAIN_METRICS)


@dataclass
class TrainLayer:
    name: str
    kind: str
    values: dict  # TRAIN_NAMES -> exact int, batch included
    grad_input: bool  # some input of the layer needs a gradient
    trainable: int  # its trainable parameters
    saved: tuple = (frozenset(), 0)  # (storage roots, bytes of its own tensors) it saves

    def __getattr__(self, metric):
        try:
            return self.values[metric]
        except KeyError:
            raise AttributeError(metric) from None


@dataclass
class Checkpoint:
    """Activation checkpointing of block instances: their inner tensors are not kept; each
    segment's inputs are, and its forward runs again in the backward pass."""

    segments: list  # block-instance paths
    recompute_macs: int  # forward MACs run again
    stored_bytes: int  # saved through the forward pass, segment inputs included
    peak_bytes: int  # stored + the largest segment's own saved tensors, rebuilt one at a time


@dataclass
class Training:
    optimizer: str
    precision: str
    batch: int
    layers: list
    totals: dict
    memory: dict  # name -> bytes
    checkpoint: Checkpoint | None = None
    run: dict | None = None
    notes: list = field(default_factory=list)
    #: with several outputs: the inference graph, the layers that reach the first output only
    #: (GoogLeNet's auxiliary heads are removed at test time): its paths, params and MACs
    inference: dict | None = None
    storage: object = field(default=None, repr=False, compare=False)  # the step's _Storage

    def held(self, layers) -> int:
        """Bytes a group of its layers holds for backward, each storage once."""
        return _held(self.storage, [l.saved for l in layers])

    def layer(self, path):
        return next((l for l in self.layers if l.name == path), None)

    def to_dict(self) -> dict:
        return {"optimizer": self.optimizer, "precision": self.precision, "batch": self.batch,
                "totals": dict(self.totals), "memory": dict(self.memory),
                "checkpoint": None if self.checkpoint is None else vars(self.checkpoint),
                "run": self.run, "inference": self.inference,
                "layers": [{"name": l.name, "kind": l.kind, "grad_input": l.grad_input,
                            **l.values} for l in self.layers]}


def _choice(value, choices, what):
    if value not in choices:
        raise CostcalcError(f"unknown {what} '{value}'; {what}s: {', '.join(choices)}")
    return value


class _Storage:
    """The storage each tensor of the graph belongs to: a view's is its input's."""

    def __init__(self, graph, batch, act_bytes):
        self.graph, self.batch, self.act = graph, batch, act_bytes
        self.kinds = {n.path: n for n in graph.nodes}

    def root(self, path: str) -> str:
        while path != INPUT:
            node = self.kinds[node_of(path)]
            if node.kind.name not in backward.VIEWS or (node.kind.name == "reshape"
                                                        and self._permuted(node.inputs[0])):
                return path
            path = node.inputs[0]
        return INPUT

    def _permuted(self, path: str) -> bool:
        """Whether ``path`` is a view whose axes a permute reordered (a reshape of it copies)."""
        while path != INPUT:
            node = self.kinds[node_of(path)]
            if node.kind.name not in backward.VIEWS:
                return False
            if node.kind.name == "permute":
                x = self.graph.in_shapes(node)[0]
                if [x.axis(k) for k in node.args["order"]] != list(range(len(x))):
                    return True
            if node.kind.name == "reshape":
                return self._permuted(node.inputs[0])
            path = node.inputs[0]
        return False

    def nbytes(self, root: str) -> int:
        shape = self.graph.spec.input if root == INPUT else self.graph.shapes[root]
        return numel(shape) * self.batch * self.act

    def own_bytes(self, s) -> int:
        return s.elements * (self.batch if s.batched else 1) * (s.itemsize or self.act)

    def saved(self, node):
        """(storage roots, bytes of its own tensors) that ``node`` saves for backward."""
        rule = backward.saved_rule(node.kind.name)
        roots, own = set(), 0
        for s in rule(node.args, self.graph.in_shapes(node), self.graph.shapes[node.path], self.batch):
            if s.ref == "input":
                roots.add(self.root(node.inputs[s.index]))
            elif s.ref == "output":
                roots.add(self.root(node.path))
            else:
                own += self.own_bytes(s)
        return roots, own


def train_step(graph, *, batch: int, optimizer: str = "adam", precision: str = "fp32",
               frozen=(), checkpoint=()) -> Training:
    """One step's figures. ``frozen``: globs of layer paths whose weights are not trained (with
    the spec's own ``frozen:`` list); ``checkpoint``: globs of block-instance paths to checkpoint."""
    _choice(optimizer, OPTIMIZERS, "optimizer")
    _choice(precision, PRECISIONS, "precision")
    backward.check_rules({n.kind.name for n in graph.nodes})
    frozen = tuple(frozen) + spec_frozen(graph)
    w_bytes, master_bytes, g_bytes, act_bytes = PRECISIONS[precision]
    storage = _Storage(graph, batch, act_bytes)
    needs_grad = {INPUT: False}  # node path -> its output depends on a trainable weight
    layers, per_node = [], {}
    for node in graph.nodes:
        cost = graph.costs[node.path]
        is_frozen = any(fnmatch.fnmatchcase(node.path, g) for g in frozen)
        trainable = 0 if is_frozen else cost.params
        # a tied weight (GPT-2's lm_head is wte's table) is counted in its embedding, but its
        # gradient is this layer's product too
        weighted = not is_frozen and (cost.params > 0 or bool(node.args.get("tie")))
        needs = tuple(needs_grad[node_of(p)] for p in node.inputs)
        grad_in = any(needs)
        needs_grad[node.path] = grad_in or weighted
        b = backward.backward_rule(node.kind.name)(node.args, graph.in_shapes(node),
                                                   graph.shapes[node.path], cost, needs)
        gi = b.grad_input * batch
        gw = b.grad_weight * batch if weighted else 0
        roots, own = storage.saved(node) if needs_grad[node.path] else (set(), 0)
        per_node[node.path] = (roots, own)
        fwd = cost.macs * batch
        values = {"forward_macs": fwd, "grad_input_macs": gi, "grad_weight_macs": gw,
                  "backward_macs": gi + gw, "train_flops": 2 * (fwd + gi + gw),
                  "saved_bytes": sum(storage.nbytes(r) for r in roots) + own}
        layers.append(TrainLayer(node.path, node.kind.name, values, grad_in, trainable,
                                 (frozenset(roots), own)))
    totals = {m: sum(l.values[m] for l in layers) for m in TRAIN_NAMES}
    totals["saved_bytes"] = _held(storage, per_node.values())
    params = sum(c.params for c in graph.costs.values())
    trainable = sum(l.trainable for l in layers)
    memory = {
        "weights_bytes": w_bytes * params,
        "master_weights_bytes": master_bytes * trainable,
        "gradient_bytes": g_bytes * trainable,
        "optimizer_bytes": OPTIMIZERS[optimizer] * STATE_BYTES * trainable,
        "saved_activation_bytes": totals["saved_bytes"],
    }
    ck = _checkpoint(graph, storage, layers, per_node, checkpoint) if checkpoint else None
    if ck is not None:
        memory["saved_activation_bytes"] = ck.peak_bytes
        totals["recompute_macs"] = ck.recompute_macs
        totals["train_flops"] += 2 * ck.recompute_macs
    memory["total_bytes"] = sum(memory.values())
    totals["params"], totals["trainable_params"] = params, trainable
    return Training(optimizer, precision, batch, layers, totals, memory, ck,
                    inference=_inference(graph, batch) if len(graph.outputs) > 1 else None,
                    storage=storage)


def spec_frozen(graph) -> tuple:
    """The spec's ``frozen:`` globs of layer paths, each naming at least one layer."""
    from costcalc.spec.yamlio import pos_of

    listed = graph.spec.raw.get("frozen")
    if listed is None:
        return ()
    where = pos_of(graph.spec.raw, "frozen") or (None, None)
    if not isinstance(listed, list) or not all(isinstance(g, str) for g in listed):
        raise CostcalcError("'frozen' must be a list of layer paths or globs, e.g. [conv1, 'layer1/*']",
                            file=graph.spec.file, line=where[0], column=where[1])
    for j, g in enumerate(listed):
        if not any(fnmatch.fnmatchcase(n.path, g) for n in graph.nodes):
            at = pos_of(listed, j) or where
            raise CostcalcError(f"'frozen' names '{g}', which matches no layer",
                                file=graph.spec.file, line=at[0], column=at[1])
    return tuple(listed)


def frozen_paths(graph, frozen=()) -> set:
    """The layer paths whose weights a step does not train."""
    globs = tuple(frozen) + spec_frozen(graph)
    return {n.path for n in graph.nodes if any(fnmatch.fnmatchcase(n.path, g) for g in globs)}


def _inference(graph, batch) -> dict:
    """Params and forward MACs of the layers that reach the first output."""
    used = {node_of(graph.output)}
    for node in reversed(graph.nodes):
        if node.path in used:
            used.update(node_of(p) for p in node.inputs)
    live = [n for n in graph.nodes if n.path in used]
    return {"output": graph.output, "layers": len(live),
            "params": sum(graph.costs[n.path].params for n in live),
            "forward_macs": sum(graph.costs[n.path].macs for n in live) * batch,
            "training_only": [o for o in graph.outputs[1:]]}


def _held(storage, saved) -> int:
    """Bytes held for backward: each storage once, plus every layer's own tensors."""
    roots, own = set(), 0
    for r, o in saved:
        roots |= r
        own += o
    return sum(storage.nbytes(r) for r in roots) + own


def _checkpoint(graph, storage, layers, per_node, globs) -> Checkpoint:
    instances = [p for p in graph.instances if any(fnmatch.fnmatchcase(p, g) for g in globs)]
    matched = set(instances)
    prefixes = lambda p: ("/".join(p.split("/")[:i]) for i in range(1, p.count("/") + 1))  # noqa: E731
    segments = [p for p in instances if not any(q in matched for q in prefixes(p))]  # outermost
    if not segments:
        raise CostcalcError(f"--checkpoint {', '.join(globs)} names no block instance; "
                            f"instances: {', '.join(list(graph.instances)[:12]) or 'none'}",
                            file=graph.spec.file)
    chosen = set(segments)

    def segment_of(path):
        return next((q for q in prefixes(path) if q in chosen), None)

    inside = {n.path: segment_of(n.path) for n in graph.nodes}
    kept, seg_saved, recompute = [], {s: [] for s in segments}, 0
    macs = {l.name: l.forward_macs for l in layers}
    for node in graph.nodes:
        seg = inside[node.path]
        if seg is None:
            kept.append(per_node[node.path])
            continue
        seg_saved[seg].append(per_node[node.path])
        recompute += macs[node.path]
        outside = {storage.root(p) for p in node.inputs if inside.get(node_of(p)) != seg}
        kept.append((outside, 0))  # torch.utils.checkpoint saves the segment's inputs
    stored = _held(storage, kept)
    largest = max(_held(storage, v) for v in seg_saved.values())
    return Checkpoint(segments, recompute, stored, stored + largest)


def whole_run(step: Training, sequence: int | None, *, samples=None, epochs=1, tokens=None,
              throughput=None, mfu=1, devices=1) -> dict:
    """The FLOPs of a run of ``samples`` × ``epochs`` (or ``tokens`` for a sequence model whose
    samples have ``sequence`` tokens), beside the 6·N·D rule, and the time it takes at
    ``throughput`` TFLOP/s per device and a model-FLOPs utilisation ``mfu``."""
    per_sample = Fraction(step.totals["train_flops"], step.batch)
    if tokens is not None:
        if not sequence:
            raise CostcalcError("--tokens needs a sequence model: an input with a T axis")
        seen = Fraction(tokens, sequence)  # sequences of the spec's length
        data, unit = tokens, "tokens"
    else:
        if samples is None:
            raise CostcalcError("a whole run needs --samples N (with --epochs) or --tokens N")
        seen = Fraction(samples * epochs)
        data, unit = samples * epochs, "samples"
    total = per_sample * seen
    rule = 6 * step.totals["trainable_params"] * data
    run = {"data": data, "data_unit": unit, "flops": _int(total), "rule_6nd_flops": rule,
           "ratio_to_6nd": float(total / rule) if rule else None}
    if step.checkpoint is not None:
        # with every layer recomputed, Narayanan et al. 2021's 8·T·P (eq. 4): 2 more per
        # parameter per token for the forward run again
        run["rule_8nd_flops"] = 8 * step.totals["trainable_params"] * data
        run["recompute_flops"] = _int(Fraction(2 * step.checkpoint.recompute_macs, step.batch) * seen)
    if throughput is not None:
        throughput, mfu = Fraction(throughput), Fraction(mfu)
        rate = throughput * 10**12 * mfu * devices
        seconds = total / rate
        run.update(throughput_tflops=_int(throughput), mfu=_int(mfu), devices=devices,
                   seconds=float(seconds), days=float(seconds / 86400),
                   device_hours=float(seconds * devices / 3600))
        for key in ("rule_6nd", "rule_8nd"):
            if f"{key}_flops" in run:
                run[f"{key}_days"] = float(run[f"{key}_flops"] / rate / 86400)
    return run


def _int(f: Fraction):
    return int(f) if f.denominator == 1 else float(f)


def megatron_flops(batch: int, seq: int, layers: int, hidden: int, vocab: int) -> int:
    """Narayanan et al. 2021 (Megatron-LM), §5.1: FLOPs of one iteration of a GPT model with
    activation recomputation, 96·B·s·l·h²·(1 + s/6h + V/16lh), as the exact integer it is:
    96·B·s·l·h² + 16·B·s²·l·h + 6·B·s·h·V."""
    B, s, l, h, V = batch, seq, layers, hidden, vocab
    return 96 * B * s * l * h * h + 16 * B * s * s * l * h + 6 * B * s * h * V


def sequence_length(graph) -> int | None:
    """Tokens per sample: the input's T axis, if it has one."""
    shape = graph.spec.input
    return shape.size("T") if "T" in getattr(shape, "layout", ()) else None
