"""Peer: ptflops' get_model_complexity_info (its default backend) on the spec-built model."""
from ptflops import get_model_complexity_info

from peer_common import model_and_input, report

model, _, shape = model_and_input()
macs, params = get_model_complexity_info(model, shape, as_strings=False, print_per_layer_stat=False,
                                         verbose=False)
report("ptflops", "MACs", macs, params)
