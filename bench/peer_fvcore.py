"""Peer: fvcore's FlopCountAnalysis and parameter_count on the spec-built model."""
from fvcore.nn import FlopCountAnalysis, parameter_count

from peer_common import model_and_input, report

model, x, _ = model_and_input()
flops = FlopCountAnalysis(model, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
report("fvcore", "flops (1 per multiply-add)", flops.total(), parameter_count(model)[""])
