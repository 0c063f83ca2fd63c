"""Peer: torch.utils.flop_counter.FlopCounterMode (first use in the process) on the spec-built model."""
import torch
from torch.utils.flop_counter import FlopCounterMode

from peer_common import model_and_input, report

model, x, _ = model_and_input()
with torch.no_grad(), FlopCounterMode(display=False) as counter:
    model(x)
report("FlopCounterMode", "FLOPs (2 per multiply-add)", counter.get_total_flops())
