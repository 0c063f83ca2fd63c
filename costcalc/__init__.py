"""costcalc: exact parameter, MAC, FLOP and activation counts for neural-network specs.

    >>> import costcalc
    >>> result = costcalc.analyze("specs/reduced.yaml")
    >>> result.totals["macs"]
    128049152

Each function here is what one command computes; the command prints its result (costcalc/cli/).
"""
__version__ = "0.1.0"


def analyze(source, *, set=None, convention="macs", batch=None, dtype=None, train=False,
            optimizer="adam", precision="fp32", frozen=(), checkpoint=(), run=None):
    """What `costcalc analyze` prints for one spec (file path or mapping): a ModelResult with
    its published claims judged (``result.claims``, a list of Outcomes). ``set`` overrides the
    spec's top-level params, as ``--set NAME=VALUE`` does: ``analyze(path, set={"seq": 2048})``.

    With ``train=True`` (`analyze --train`), ``result.training`` is one training step
    (counting/training.py) with ``optimizer``, ``precision``, ``frozen`` and ``checkpoint``
    globs, and with ``run`` (the keywords of ``training.whole_run``: samples, epochs, tokens,
    throughput, mfu, devices) a whole training run."""
    from costcalc.counting.results import analyze as count
    from costcalc.expectations.claims import claim_outcomes

    result = count(source, convention=convention, batch=batch, dtype=dtype, params=set)
    result.claims = claim_outcomes(result)
    if train:
        _train(result, optimizer=optimizer, precision=precision, frozen=frozen,
               checkpoint=checkpoint, run=run)
    return result


def _train(result, *, optimizer, precision, frozen=(), checkpoint=(), run=None):
    """``result.training``: one training step (counting/training.py), and a whole run if asked."""
    from costcalc.counting import training

    result.training = training.train_step(result.graph, batch=result.batch, optimizer=optimizer,
                                          precision=precision, frozen=frozen, checkpoint=checkpoint)
    if run:
        result.training.run = training.whole_run(result.training, training.sequence_length(
            result.graph), **run)


def compare(sources, *, set=None, convention="macs", batch=None, dtype=None, train=False,
            optimizer="adam", precision="fp32") -> dict:
    """What `costcalc compare` prints: totals side by side, ratios against the first spec and
    the per-path diff (a mapping, as its --format json). With ``train=True`` (`compare
    --train`), each model's training step too: train FLOPs, backward MACs, saved activations
    and training memory with ``optimizer`` at ``precision``."""
    from costcalc.counting.compare import compare as side_by_side
    from costcalc.counting.results import analyze as count
    from costcalc.errors import CostcalcError

    if len(sources) < 2:
        raise CostcalcError("compare needs two or more spec files")
    results = [count(str(s), convention=convention, batch=batch, dtype=dtype, params=set)
               for s in sources]
    if train:
        for r in results:
            _train(r, optimizer=optimizer, precision=precision)
    return side_by_side(results)


def table1(source, *, set=None):
    """What `costcalc table` prints: the GoogLeNet paper's Table 1 layout of a spec, with its
    claims attached to their rows."""
    from costcalc.paper.table1 import build_table

    result = analyze(source, set=set)
    return build_table(result, result.claims)


__all__ = ["analyze", "compare", "table1", "__version__"]
