"""The YAML text of an imported spec: top-level keys in spec order, one line per layer entry
(a flow mapping, as the shipped specs are written)."""
from __future__ import annotations

import yaml


def _flow(value) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False).strip()
    if text.endswith("\n..."):
        text = text[:-4].strip()
    return text.replace(": null}", ": }").replace(": null,", ": ,")


def _layers(entries, indent) -> list:
    return [f"{indent}- {_flow(e)}" for e in entries]


def spec_text(spec: dict, header: str = "") -> str:
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for key in ("name", "source", "description"):
        if key in spec:
            lines.append(f"{key}: {_flow(spec[key])}")
    lines.append(f"input: {_flow(spec['input'])}")
    if spec.get("blocks"):
        lines.append("blocks:")
        for name, block in spec["blocks"].items():
            lines.append(f"  {_flow(name)}:")
            if block.get("params"):
                lines.append(f"    params: {_flow(block['params'])}")
            lines.append("    layers:")
            lines += _layers(block["layers"], "      ")
    lines.append("layers:")
    lines += _layers(spec["layers"], "  ")
    return "\n".join(lines) + "\n"
