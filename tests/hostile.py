"""Small hostile specs that once exhausted memory or time (issue 19), for test_hostile.py and
the fuzzing suite's seeds (test_fuzz.py).

Each is a few hundred bytes to a few kilobytes of YAML; what it would cost if walked or
printed whole is in its docstring.
"""
from __future__ import annotations

C3 = "input: [3, 8, 8]\n"


def _aliased_list(levels: int, leaf: str, width: int = 10) -> str:
    """A 'source:' list of anchors &a0 ... &aN, each a list of `width` copies of the one before:
    &aN stands for width**(N+1) leaves, in a few lines of text."""
    lines = ["source:", f"  - &a0 [{', '.join([leaf] * width)}]"]
    for i in range(1, levels + 1):
        lines.append(f"  - &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def alias_bomb_in(slot: str) -> str:
    """An aliased list of 10**4 texts of 1,000 characters (10 MB of text if printed: 11,111
    nodes, under the 1,000,000-node limit) given where a layer name, a 'from', a 'repeat' or
    a claim's metric belongs. An error message that prints the value is 10 MB long."""
    bomb = "*a3"
    layer = {"name": f"{{name: {bomb}, relu: }}", "from": f"{{relu: , from: {bomb}}}",
             "repeat": f"{{relu: , repeat: {bomb}}}", "when": f"{{relu: , when: {bomb}}}",
             "metric": "relu"}[slot]
    claims = f"claims:\n  - {{metric: {bomb}, value: 3}}\n" if slot == "metric" else ""
    return C3 + _aliased_list(3, "'" + "x" * 1000 + "'") + claims + f"layers:\n  - relu\n  - {layer}\n"


BOMB_SLOTS = ("name", "from", "repeat", "when", "metric")


def _nested_blocks(argument_lines: list, repeat: int) -> str:
    """Block 'outer' (one parameter) passes arguments to block 'inner', which ignores them;
    the spec's one layer is 'outer' repeated."""
    return (C3 + "blocks:\n  inner: {params: [p], layers: [relu]}\n  outer:\n    params: [{q: 1}]\n"
            "    layers:\n" + "".join(f"      - {{block: inner, args: [{a}]}}\n" for a in argument_lines)
            + f"layers:\n  - {{block: outer, repeat: {repeat}}}\n")


def aliased_argument_spec(repeat: int = 2000) -> str:
    """Issue 19.2: 'outer' passes a 600,995-node aliased list (54 copies of &a3, 11,111 nodes each,
    and the list) to 'inner', and is instantiated `repeat` times: 1.2 billion nodes if walked
    once per instance, in about 800 bytes."""
    lines = ["&a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in (1, 2, 3)]
    lines.append(f"[{', '.join(['*a3'] * 54)}]")
    return _nested_blocks(lines, repeat)


def substituted_list_spec(items: int = 2000, repeat: int = 2000) -> str:
    """A list of `items` '$q' texts that 'outer' rebuilds in each of its `repeat` instances:
    items * repeat list items substituted (4,000,000 by default), from 10 KB."""
    return _nested_blocks([f"[{', '.join(['$q'] * items)}]"], repeat)
