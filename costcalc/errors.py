"""The one error type costcalc raises for bad input, and its one-line format.

    costcalc: error: specs/net.yaml:14:7: layer 'inception_4a/b2': conv kernel 5 is larger than ...
"""
from __future__ import annotations


# exit codes of every command (README "Errors")
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

MAX_SHOWN = 60  # characters of a user's text an error message quotes
MAX_LINE = 1_000  # characters of an error line (a 10 MiB name would otherwise be printed whole)
MAX_SUGGEST = 100  # words longer than this get no "did you mean" (difflib is slow on long text)


class CostcalcError(Exception):
    """Bad input: a spec, lock, budget file or argument that costcalc cannot use.

    The CLI prints it as one line and exits 2.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: int | None = None, layer: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.layer = layer

    def located(self, *, file: str | None = None, line: int | None = None,
                column: int | None = None, layer: str | None = None) -> "CostcalcError":
        """Fill in location fields that are still unknown; returns self."""
        if self.file is None:
            self.file = file
        if self.line is None and line is not None:
            self.line, self.column = line, column
        if self.layer is None:
            self.layer = layer
        return self

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        layer = f"layer '{self.layer}': " if self.layer else ""
        # one line, always: any line break (\r, \x0b, \u2028 ...) in a name or path becomes a space,
        # and the text of a file reaches the terminal as text: no escape sequence, NUL or surrogate
        line = printable(" ".join(f"{where}{layer}{self.message}".splitlines()))
        if len(line) > MAX_LINE:
            line = f"{line[:MAX_LINE]}... (an error line of {len(line):,} characters, cut)"
        return line


# bidirectional overrides and isolates: they reorder what a terminal shows ("trojan source")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unprintable(text: str, breaks: bool = True) -> str | None:
    """The first character of text that must not reach a terminal raw (see printable), else
    None. With ``breaks``, line breaks (\\n \\r \\x0b \\x0c) and tab are allowed: a one-line
    message turns them into spaces."""
    if text.isprintable():
        return None
    import unicodedata

    for c in text:
        if c in _BIDI or (not c.isprintable() and unicodedata.category(c) in ("Cc", "Cs")):
            if not (breaks and c in "\t\n\r\x0b\x0c"):
                return c
    return None


def printable(text: str) -> str:
    """Text with control characters (ESC, NUL, BEL, DEL, C1 ...; tab apart), lone surrogates
    and bidi overrides written as Python escapes: '\x1b[2J' shows as the six characters
    \\x1b[2J. Text a terminal may receive raw from a file goes through this."""
    if text.isprintable():
        return text
    import unicodedata

    out = []
    for c in text:
        if c == "\t" or (c.isprintable() and c not in _BIDI) or \
                (unicodedata.category(c) not in ("Cc", "Cs") and c not in _BIDI):
            out.append(c)
        else:
            out.append(f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
    return "".join(out)


def did_you_mean(word: str, choices, hints: dict | None = None) -> str:
    """A ' (did you mean 'x'?)' suffix, or ''."""
    import difflib

    if hints and word in hints and hints[word] in choices:
        return f" (did you mean '{hints[word]}'?)"
    if len(str(word)) > MAX_SUGGEST:
        return ""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def brief(value) -> str:
    """A user's value as an error message quotes it: short text and numbers as written (repr),
    a long text cut to MAX_SHOWN characters with its length, a huge number by its digit count,
    a list or mapping by its size, anything else by its type.

    Never the contents of a list or mapping: with YAML aliases a 100 KB file holds a list whose
    text runs to gigabytes, so this takes constant time and gives a bounded line."""
    if isinstance(value, str):
        if len(value) <= MAX_SHOWN:
            return repr(value)
        return f"{value[:MAX_SHOWN]!r}... ({len(value):,} characters)"
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return f"a {len(str(abs(value)))}-digit number" if abs(value) >= 10**40 else repr(value)
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value):,} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return f"a mapping of {len(value):,} key{'' if len(value) == 1 else 's'}"
    return f"a value of type {type(value).__name__}"


def describe(value) -> str:
    """A value as an error message names it: 'the text 'x'', 'a list of 3 items', '1.5',
    'the boolean true', a huge number by its digit count (brief() bounds the length)."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {brief(value)}"
    if value is None:
        return "nothing (null)"
    return brief(value)


class SpecWarning(str):
    """One warning: its whole one-line text (``str(w)``), plus what grouping needs.

    ``group`` names warnings of one kind in the plural ("layers whose output is never used ...");
    ``item`` is this one's short mention in a group ("'side' (5:5)")."""

    def __new__(cls, text: str, *, group: str, item: str, file: str | None = None):
        self = super().__new__(cls, " ".join(text.splitlines()))
        self.group, self.item, self.file = group, item, file
        return self


#: a group of warnings names this many of its items, then "and N more"
GROUP_SHOWN = 5


def warning_lines(warnings) -> list[str]:
    """Warnings of one kind in one file become one line with a count; a lone one stays whole."""
    groups: dict[tuple, list] = {}
    for w in warnings:
        key = (getattr(w, "file", None), getattr(w, "group", None) or str(w))
        groups.setdefault(key, []).append(w)
    out = []
    for (file, group), ws in groups.items():
        if len(ws) == 1 or not getattr(ws[0], "group", None):
            out += [str(w) for w in ws]
            continue
        items = ", ".join(w.item for w in ws[:GROUP_SHOWN])
        more = f" and {len(ws) - GROUP_SHOWN:,} more" if len(ws) > GROUP_SHOWN else ""
        out.append(f"{file + ': ' if file else ''}{len(ws):,} {group}: {items}{more}")
    return out
