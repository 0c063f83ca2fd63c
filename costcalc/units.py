"""Human units: 120.4M, 51.4M, 1.58G, and back again ("7M", "1.6G", "512Ki", "159K").

Decimal prefixes (K, M, G, T) mean powers of 1000; binary ones (Ki, Mi, Gi, Ti) powers of 1024.
"""
from __future__ import annotations

from fractions import Fraction

from .errors import brief

DECIMAL = (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3))
PREFIX = {"K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


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
        value = Fraction(number)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"'{text}' is not a quantity such as 7M, 1.6G or 512Ki") from None
    return value * scale
