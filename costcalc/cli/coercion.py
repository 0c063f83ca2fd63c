"""Command-line values coerced without importing pydantic, when typer's own rules allow.

typer 0.29 coerces every parameter value with a pydantic TypeAdapter, and importing pydantic
costs about 55 ms of a ~150 ms command: a bare typer app running its one-option command is
already slower than its own ``--help`` (bench/RESULTS.md), so no costcalc command could be.

``install(command)`` gives each parameter of costcalc's click command a coercer that handles
the values costcalc's options actually take with typer's own pydantic-free functions: a path
through ``coerce_cli_path`` (its existence and readability checks included), a choice through
``coerce_cli_choice``, a plain decimal int within the option's min/max, a str. Any other value,
and every value that typer would refuse, goes to typer's own coercer, so errors and edge cases
(``+5``, ``0x10``, a bad choice, a number below min) are typer's, word for word. It relies on
typer internals (``typer._coercion``, ``_TyperParameter._runtime_param``); with a typer that
lacks them, install() does nothing and typer coerces as usual.
"""
from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import get_args, get_origin

_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,18})\Z")


def install(command) -> None:
    """Give the parameters of ``command`` (a click group from typer.main.get_command) and of
    its subcommands the pydantic-free coercer."""
    try:
        from dataclasses import dataclass

        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_choice, coerce_cli_path
        from typer.core import _TyperParameter
    except ImportError:  # another typer: it coerces as it always does
        return

    @dataclass(frozen=True)
    class Quick(RuntimeParam):
        def _coerce_value(self, value, param, ctx):
            try:
                return self._quick(self.annotation, value, param, ctx)
            except _Typer:
                return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)

        def _quick(self, annotation, value, param, ctx):
            info = self.parameter_info
            if info.parser is not None:
                raise _Typer
            if get_origin(annotation) is list and isinstance(value, (list, tuple)):
                (item,) = get_args(annotation)
                return [self._quick(item, v, param, ctx) for v in value]
            if annotation is Path and info.path_type is None:
                if isinstance(value, str):
                    value = Path(value)
                if isinstance(value, Path):
                    return coerce_cli_path(value, info, path_type=Path, param=param, ctx=ctx)
            elif isinstance(annotation, type) and issubclass(annotation, Enum):
                try:
                    return coerce_cli_choice(value, choices=tuple(annotation),
                                             case_sensitive=info.case_sensitive, ctx=ctx)
                except ValueError:
                    pass
            elif annotation is int and not info.clamp:
                n = value if type(value) is int else (int(value) if isinstance(value, str)
                                                      and _DECIMAL.match(value) else None)
                if n is not None and (info.min is None or n >= info.min) and (info.max is None or n <= info.max):
                    return n
            elif annotation is str and isinstance(value, str):
                return value
            raise _Typer

    def walk(cmd, parent):
        ctx = cmd.context_class(cmd, parent=parent)
        # the --help option is made on first use; make it now (it is cached) so that it too
        # gets the coercer
        for p in [*cmd.params, cmd.get_help_option(ctx)]:
            if isinstance(p, _TyperParameter) and getattr(p, "_runtime_param", 0) is None:
                d = p.type_descriptor
                if d.file_annotation is None:
                    p._runtime_param = Quick(parameter_info=d.parameter_info, annotation=d.annotation)
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub, ctx)

    walk(command, None)


class _Typer(Exception):
    """This value is left to typer's own coercer."""
