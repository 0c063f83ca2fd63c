"""Print the README's layer-kind table from the registry: python tools/gen_readme_kinds.py"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from costcalc import kinds  # noqa: E402

print("| kind | arguments (default) | element ops |")
print("|---|---|---|")
for n in kinds.known():
    k = kinds.get(n)
    a = ", ".join(f"`{key}`" + ("" if arg.required else f" ({arg.default})")
                  for key, arg in k.args.items()) or "—"
    print(f"| `{n}`: {k.summary} | {a} | {k.elementops_rule} |")
