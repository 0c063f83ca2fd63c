"""The op registry: one LayerKind per name, refusing duplicates."""
from __future__ import annotations

from costcalc.ops.base import LayerKind
from costcalc.registry import Registry

REGISTRY: Registry = Registry("layer kind")


def register(cls):
    """Class decorator: instantiate and add a LayerKind under ``cls.name``."""
    kind = cls()
    REGISTRY.add(kind.name, kind)
    return cls


def get(name: str) -> LayerKind | None:
    return REGISTRY.get(name)


def known() -> list[str]:
    return sorted(REGISTRY)
