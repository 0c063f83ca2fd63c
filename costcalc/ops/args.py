"""Argument types for layer kinds: each validates one value and says clearly what is wrong.

A kind declares its arguments as ``{"kernel": Pair(), "stride": Pair(default=1), ...}``;
``validate_args`` checks a user's mapping against that declaration.
"""
from __future__ import annotations

from costcalc.errors import CostcalcError, describe, did_you_mean

MAX_INT = 2**40  # the largest channel count, size, kernel ... a spec may give (about 1.1e12)
REQUIRED = object()

# names users bring from PyTorch or other tools, and what costcalc calls them
KEY_HINTS = {
    "k": "kernel", "kernel_size": "kernel", "ksize": "kernel", "size": "kernel",
    "padding": "pad", "out_channels": "out", "filters": "out", "out_features": "out",
    "channels": "out", "num_output": "out", "ceil_mode": "ceil", "group": "groups",
    "output_size": "out", "inplace": None,
}


class Arg:
    """One argument: a type check plus an optional default."""

    what = "a value"

    def __init__(self, default=REQUIRED, doc: str = ""):
        self.default = default
        self.doc = doc

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def check(self, value):  # returns the normalised value or raises ValueError(reason)
        return value

    def describe(self) -> str:
        d = "" if self.required else f" (default {self.default!r})"
        return f"{self.what}{d}"


def _int(value, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and abs(value) < MAX_INT:
            raise ValueError(f"must be a whole number written without a decimal point, not {value!r}")
        raise ValueError(f"must be a whole number, not {_show(value)}")
    if value < minimum:
        word = "positive" if minimum == 1 else "zero or more"
        raise ValueError(f"must be {word}, not {describe(value)}")
    if value > MAX_INT:
        raise ValueError(f"{describe(value)} is too large (limit {MAX_INT:,})")
    return value


_show = describe


class PosInt(Arg):
    what = "a positive whole number"

    def check(self, value):
        return _int(value, minimum=1)


class NonNegInt(Arg):
    what = "a whole number >= 0"

    def check(self, value):
        return _int(value, minimum=0)


class Pair(Arg):
    """An int for both sides, or [height, width]."""

    what = "a positive whole number or [h, w]"
    minimum = 1

    def check(self, value):
        if isinstance(value, list):
            if len(value) != 2:
                raise ValueError(f"must be one number or a pair [h, w], not a list of {len(value)}")
            return (_int(value[0], minimum=self.minimum), _int(value[1], minimum=self.minimum))
        v = _int(value, minimum=self.minimum)
        return (v, v)


class NonNegPair(Pair):
    what = "a whole number >= 0 or [h, w]"
    minimum = 0


class Padding(NonNegPair):
    what = "a whole number >= 0, [h, w], or 'same'"

    def check(self, value):
        if value == "same":
            return "same"
        return super().check(value)


class Bool(Arg):
    what = "true or false"

    def check(self, value):
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, not {_show(value)}")
        return value


class Real(Arg):
    """A finite number in [low, high] (or [low, high) with open_high)."""

    def __init__(self, default=REQUIRED, doc="", low=float("-inf"), high=float("inf"), open_high=False):
        super().__init__(default, doc)
        self.low, self.high, self.open_high = low, high, open_high
        self.what = f"a number in [{low}, {high}{')' if open_high else ']'}"

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, not {_show(value)}")
        value = float(value)
        if value != value or value < self.low or value > self.high or (self.open_high and value == self.high):
            raise ValueError(f"must be {self.what}, not {value}")
        return value


class Axis(Arg):
    """An axis of the input: a name of its layout (C, T, D ...) or an index, negative from the
    end; the shape rule resolves it against the input (``Shape.axis``)."""

    what = "an axis: a name of the input's layout (e.g. C, T, D) or an index (-1 is the last)"

    def check(self, value):
        if isinstance(value, str) and value.isidentifier():
            return value
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 64:
            return value
        raise ValueError(f"must be {self.what}, not {_show(value)}")


class PosIntList(Arg):
    """A non-empty list of positive whole numbers, e.g. split sizes [64, 64]."""

    what = "a list of positive whole numbers"

    def check(self, value):
        if not isinstance(value, list) or not value or len(value) > 4096:
            raise ValueError(f"must be {self.what} (1 to 4,096 of them), not {_show(value)}")
        return tuple(_int(v, minimum=1) for v in value)


class Text(Arg):
    """One line of text, e.g. the name of a torch op."""

    what = "one line of text"

    def check(self, value):
        if not isinstance(value, str) or not value.strip() or len(value.splitlines()) != 1 or len(value) > 200:
            raise ValueError(f"must be {self.what} (at most 200 characters), not {_show(value)}")
        return value


class Choice(Arg):
    def __init__(self, choices, default=REQUIRED, doc=""):
        super().__init__(default, doc)
        self.choices = tuple(choices)
        self.what = "one of " + ", ".join(repr(c) for c in self.choices)

    def check(self, value):
        if value not in self.choices:
            raise ValueError(f"must be {self.what}, not {_show(value)}")
        return value


def validate_args(kind: str, schema: dict, given, where) -> dict:
    """Check ``given`` (a mapping or None) against ``schema``; return normalised args.

    ``where(key)`` returns (line, column) of a key, for error locations.
    """
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise CostcalcError(f"{kind}: arguments must be a mapping such as {{{_example(schema)}}}, "
                            f"not {_show(given)}", **_at(where(None)))
    out = {}
    for key in given:
        if key not in schema:
            known = ", ".join(schema) or "none"
            raise CostcalcError(f"{kind}: unknown argument '{key}'{did_you_mean(key, schema, KEY_HINTS)};"
                                f" its arguments are: {known}", **_at(where(key)))
    for key, arg in schema.items():
        if key in given:
            try:
                out[key] = arg.check(given[key])
            except ValueError as exc:
                raise CostcalcError(f"{kind}: '{key}' {exc}", **_at(where(key))) from None
        elif arg.required:
            raise CostcalcError(f"{kind}: missing required argument '{key}' ({arg.what})",
                                **_at(where(None)))
        else:
            out[key] = arg.check(arg.default) if arg.default is not None else None
    return out


def _example(schema: dict) -> str:
    req = [k for k, a in schema.items() if a.required]
    return ", ".join(f"{k}: ..." for k in req) or ""


def _at(pos):
    if pos is None:
        return {}
    return {"line": pos[0], "column": pos[1]}


class Dims(Arg):
    """A shape without the batch: a list of sizes [196, 768] or a mapping naming each axis
    {T: 196, D: 768}; returned as ((sizes...), layout or None)."""

    what = "a list of positive sizes or a mapping of axis names to sizes, e.g. {T: 196, D: 768}"

    def check(self, value):
        if isinstance(value, dict) and value and len(value) <= 64:
            if not all(isinstance(k, str) and k.isidentifier() for k in value):
                raise ValueError(f"must be {self.what}, not {_show(value)}")
            return (tuple(_int(v, minimum=1) for v in value.values()), tuple(value))
        if isinstance(value, list) and value and len(value) <= 64:
            return (tuple(_int(v, minimum=1) for v in value), None)
        raise ValueError(f"must be {self.what}, not {_show(value)}")


class AxisList(Arg):
    """A list of axes (layout names or indices), e.g. a permutation [H, T, Dh]."""

    what = "a list of axes: names of the input's layout or indices"

    def check(self, value):
        if not isinstance(value, list) or not value or len(value) > 64:
            raise ValueError(f"must be {self.what}, not {_show(value)}")
        return tuple(Axis().check(v) for v in value)


class Name(Arg):
    """The name of another layer, e.g. the embedding a linear's weight is tied to."""

    what = "a layer name"

    def check(self, value):
        if not isinstance(value, str) or not value or len(value) > 1000:
            raise ValueError(f"must be {self.what}, not {_show(value)}")
        return value
