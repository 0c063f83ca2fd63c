"""costcalc/cli/coercion.py gives every option value exactly what typer's own (pydantic)
coercion gives, or leaves it to typer: the same value, or the same error message."""
import pytest
import typer.main
from typer._coercion import build_runtime_param
from typer.core import _TyperParameter

from costcalc import cli
from costcalc.cli.coercion import install

SAMPLES = {  # by annotation name: values as the command line gives them
    "Path": ["specs/googlenet.yaml", "no/such.yaml", "specs", ""],
    "int": ["0", "1", "5", "1024", "+5", "007", "-1", " 3", "1_000", "0x10", "9" * 30, "x", ""],
    "str": ["float16", "", "seq=2048", "é"],
    "bool": [True, False],
    "enum": ["table", "json", "csv", "markdown", "junit", "macs", "fvcore", "JSON", "xml", ""],
}


def outcome(runtime, value, param, ctx):
    try:
        return "ok", runtime.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # the message a user would see
        return "error", type(exc).__name__, getattr(exc, "format_message", lambda: str(exc))()


def params():
    group = typer.main.get_command(cli.app)
    install(group)
    out = []
    for name, cmd in group.commands.items():
        ctx = cmd.context_class(cmd)
        for p in cmd.params:
            if isinstance(p, _TyperParameter):
                out.append(pytest.param(p, ctx, id=f"{name} {p.name}"))
    return out


def samples(param):
    a = param.type_descriptor.annotation
    a = getattr(a, "__args__", (a,))[0]  # List[X] -> X
    key = "enum" if isinstance(a, type) and issubclass(a, __import__("enum").Enum) else a.__name__
    values = SAMPLES[key]
    if param.multiple or param.nargs == -1:
        return [tuple(values[:2]), tuple(values)]
    return values


@pytest.mark.parametrize("param, ctx", params())
def test_same_as_typer(param, ctx):
    quick = param._runtime_param
    assert type(quick).__name__ == "Quick"  # installed
    own = build_runtime_param(param.type_descriptor)
    for value in samples(param):
        assert outcome(quick, value, param, ctx) == outcome(own, value, param, ctx), value
