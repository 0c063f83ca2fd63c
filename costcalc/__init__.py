"""costcalc: exact parameter, MAC, FLOP and activation counts for neural-network specs.

    >>> import costcalc
    >>> result = costcalc.analyze("specs/reduced.yaml")
    >>> result.totals["macs"]
    128049152
"""
__version__ = "0.1.0"


def analyze(source, **kwargs):
    """Count a spec (file path or mapping); see costcalc.counting.results.analyze."""
    from costcalc.counting.results import analyze as _analyze

    return _analyze(source, **kwargs)


__all__ = ["analyze", "__version__"]
