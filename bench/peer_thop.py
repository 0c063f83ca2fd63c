"""Peer: thop's profile on the spec-built model."""
from thop import profile

from peer_common import model_and_input, report

model, x, _ = model_and_input()
macs, params = profile(model, inputs=(x,), verbose=False)
report("thop", "MACs", int(macs), int(params))
