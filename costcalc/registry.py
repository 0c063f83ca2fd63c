"""A name-keyed registry that refuses duplicates: kinds, torch builders, tool rules and
Table-1 presentation are each one of these, keyed by kind name."""
from __future__ import annotations


class Registry(dict):
    """``what`` names the entries in errors ("layer kind", "torch builder")."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def add(self, name: str, entry):
        if not name:
            raise TypeError(f"a {self.what} needs a name")
        if name in self:
            raise ValueError(f"{self.what} '{name}' is registered twice")
        self[name] = entry
        return entry

    def register(self, name: str):
        """Decorator: ``@BUILDERS.register("conv")`` adds the function under that name."""
        def deco(entry):
            self.add(name, entry)
            return entry
        return deco
