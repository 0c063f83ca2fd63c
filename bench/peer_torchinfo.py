"""Peer: torchinfo's summary (total mult-adds) on the spec-built model."""
from torchinfo import summary

from peer_common import model_and_input, report

model, x, _ = model_and_input()
stats = summary(model, input_data=x, verbose=0)
report("torchinfo", "mult-adds", stats.total_mult_adds, stats.total_params)
