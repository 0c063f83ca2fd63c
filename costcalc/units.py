"""Human units: 120.4M, 51.4M, 1.58G, and back again ("7M", "1.6G", "512Ki", "159K").

Decimal prefixes (K, M, G, T) mean powers of 1000; binary ones (Ki, Mi, Gi, Ti) powers of 1024.
"""
from __future__ import annotations

import re
import functools
from fractions import Fraction

from costcalc.errors import brief

#: a figure as text (a budget, claim, tolerance): at most this many characters and at most
#: this power of ten, so that reading it, and printing what is computed against it, stay fast
#: and within a float (10^100 digits times 10^100 times T is still far below 1.8e308)
MAX_FIGURE_CHARS = 100
MAX_EXPONENT = 100
_EXPONENT = re.compile(r"[eE]\s*([+-]?[0-9_]+)")

DECIMAL = (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3))
PREFIX = {"K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


@functools.lru_cache(maxsize=1 << 16)  # a big table repeats a few figures many times
def human(n: int, digits: int | None = None) -> str:
    """120422400 → '120.4M', 1582671872 → '1.58G'; numbers under 1000 are printed whole.

    The prefix is chosen after rounding, so 999,950 is '1.00M', never '1000.0K'."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    for i, (suffix, size) in enumerate(DECIMAL):
        if n >= size or (i + 1 == len(DECIMAL) and n >= 999.5):
            value = n / size
            d = digits if digits is not None else (2 if value < 9.995 else 1)
            text = f"{value:.{d}f}"
            if float(text) >= 1000 and i > 0:  # rounds up into the next prefix
                bigger, bsize = DECIMAL[i - 1]
                return f"{sign}{n / bsize:.{digits if digits is not None else 2}f}{bigger}"
            if float(text) >= 1000 and suffix == "T":
                return f"{sign}{value:,.{d}f}{suffix}"
            return f"{sign}{text}{suffix}"
    return f"{sign}{n:,}"


def exact(n: int) -> str:
    return f"{n:,}"


def parse_quantity(text, *, k: int = 1000) -> Fraction:
    """'7M' → 7000000, '1.6G' → 1600000000, '512Ki' → 524288, '159K' (k=1024) → 162816.

    Returns an exact Fraction; raises ValueError with a reason. ``k`` says what a bare
    'K'/'M'/'G' means (1000, or 1024 where a source used binary K).
    """
    if isinstance(text, bool):
        raise ValueError(f"expected a quantity such as 7M, not {brief(text)}")
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        return Fraction(str(text))
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected a quantity such as 7M or 1.6G, not {brief(text)}")
    s = text.strip().replace(",", "").replace("_", "")
    for suffix in sorted(PREFIX, key=len, reverse=True):
        if s.endswith(suffix):
            number = s[: -len(suffix)].strip()
            scale = PREFIX[suffix]
            if k == 1024 and suffix in ("K", "M", "G", "T"):
                scale = 1024 ** ("KMGT".index(suffix) + 1)
            break
    else:
        number, scale = s, 1
    try:
        value = exact_number(number)
    except ZeroDivisionError:
        raise ValueError(f"'{text}' is not a quantity such as 7M, 1.6G or 512Ki") from None
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a quantity such as 7M, 1.6G or 512Ki"
                         + (f" ({exc})" if str(exc) else "")) from None
    return value * scale


def exact_number(text: str) -> Fraction:
    """Fraction(text) for a number as written ('1.5', '2e6', '3/4'), refusing, with a reason,
    text over MAX_FIGURE_CHARS characters or a power of ten beyond ±MAX_EXPONENT: Fraction
    itself would build 10**300000000 for '1e300000000' (a hang), or a number too long to print.
    Raises ValueError (an empty message: not a number at all) or ZeroDivisionError."""
    s = text.strip()
    if len(s) > MAX_FIGURE_CHARS:
        raise ValueError(f"written with {len(s):,} characters; the limit is {MAX_FIGURE_CHARS}")
    for m in _EXPONENT.finditer(s):
        digits = m.group(1).replace("_", "")
        if digits.lstrip("+-") and abs(int(digits)) > MAX_EXPONENT:
            raise ValueError(f"its power of ten is beyond ±{MAX_EXPONENT}")
    try:
        return Fraction(s)
    except ValueError:
        raise ValueError("") from None
