"""The layer-kind registry: one entry per kind, refusing duplicates.

To add a kind: write a ``LayerKind`` subclass in one of this package's modules, decorate it
with ``@register``, and add one test. Nothing else in costcalc names kinds.
"""
from __future__ import annotations

from .base import Cost, LayerKind, ShapeError

REGISTRY: dict[str, LayerKind] = {}


def register(cls):
    """Class decorator: instantiate and add a LayerKind under ``cls.name``."""
    kind = cls()
    if not kind.name:
        raise TypeError(f"{cls.__name__} has no name")
    if kind.name in REGISTRY:
        raise ValueError(f"layer kind '{kind.name}' is registered twice")
    REGISTRY[kind.name] = kind
    return cls


def get(name: str) -> LayerKind | None:
    return REGISTRY.get(name)


def known() -> list[str]:
    return sorted(REGISTRY)


# importing the modules registers their kinds
from . import activation, conv, linear, merge, norm, pool, reshape  # noqa: E402,F401

__all__ = ["REGISTRY", "register", "get", "known", "Cost", "LayerKind", "ShapeError"]
