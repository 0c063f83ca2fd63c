"""Generated specs for the scaling and memory benchmarks (and the scaling tests).

Two shapes of the same network, so their totals are equal and known by arithmetic:

- ``chain_spec(n)``: n layers written out one after another, alternating
  ``conv 3x3 pad 1, 8 -> 8 channels`` and ``relu`` on an 8x8x8 input;
- ``nested_spec(n)``: the same layers as block instances three levels deep:
  ``stage`` (100 layers) = 10 x ``group`` (10 layers) = 5 x ``unit`` (conv + relu).

Per conv: 8*8*3*3 = 576 weights, 8 biases, 8*8*8 * 8*3*3 = 36,864 MACs, 512 bias adds;
per relu: 512 element ops. Every layer outputs 8*8*8 = 512 elements.
"""
from __future__ import annotations

CHANNELS, SIZE = 8, 8
CONV = f"{{conv: {{out: {CHANNELS}, kernel: 3, pad: 1}}}}"
LAYERS_PER_STAGE = 100


def chain_spec(n: int) -> str:
    """A flat list of n layers (n even)."""
    if n % 2:
        raise ValueError("n must be even (conv, relu pairs)")
    lines = [f"name: chain-{n}", f"input: [{CHANNELS}, {SIZE}, {SIZE}]", "layers:"]
    lines += [f"  - {CONV}\n  - relu"] * (n // 2)
    return "\n".join(lines) + "\n"


def nested_spec(n: int) -> str:
    """n layers as n/100 instances of a 'stage' block of 10 'group's of 5 'unit's (n % 100 == 0)."""
    if n % LAYERS_PER_STAGE:
        raise ValueError(f"n must be a multiple of {LAYERS_PER_STAGE}")
    lines = [
        f"name: nested-{n}",
        f"input: [{CHANNELS}, {SIZE}, {SIZE}]",
        "blocks:",
        "  unit:",
        "    params: [c]",
        "    layers:",
        "      - {name: conv, conv: {out: $c, kernel: 3, pad: 1}}",
        "      - {name: relu, relu: }",
        "  group:",
        "    params: [c]",
        "    layers:",
        *["      - {block: unit, args: [$c]}"] * 5,
        "  stage:",
        "    params: [c]",
        "    layers:",
        *["      - {block: group, args: [$c]}"] * 10,
        "layers:",
        *[f"  - {{name: stage_{i}, block: stage, args: [{CHANNELS}]}}" for i in range(n // LAYERS_PER_STAGE)],
    ]
    return "\n".join(lines) + "\n"



#: issue 19.4: the largest valid specs, one written out near the file-size limit
FILE_LIMIT = 10 * 1024 * 1024  # costcalc.spec.yamlio.MAX_FILE_BYTES


def repeat_near_limit_spec(entries: int = 900, repeat: int = 100, size: int = FILE_LIMIT - 4096) -> str:
    """``entries`` conv layers, each ``repeat``-ed (900 × 100 = 90,000 layers and 900 repeat
    groups), every entry padded with a comment so that the file is just under ``size`` bytes."""
    head = [f"name: repeat-{entries}x{repeat}", f"input: [{CHANNELS}, {SIZE}, {SIZE}]", "layers:"]
    body = [f"  - {{name: l{i}, conv: {{out: {CHANNELS}, kernel: 3, pad: 1}}, repeat: {repeat}}}"
            for i in range(entries)]
    room = size - sum(len(x) + 1 for x in head + body)
    pad = max(0, room // entries - 4)
    return "\n".join(head + [f"{line}  # {'x' * pad}" for line in body]) + "\n"


def one_repeat_spec(repeat: int = 100_000) -> str:
    """One relu repeated ``repeat`` times: the most layers a spec may expand to."""
    return (f"name: relu-x{repeat}\ninput: [{CHANNELS}, {SIZE}, {SIZE}]\nlayers:\n"
            f"  - {{name: r, relu: , repeat: {repeat}}}\n")
