"""The sizes of one softmax step, apart from the trainer so that the estimate of a run
(:mod:`recsys_core.training._budget`) reads them without importing torch."""

#: Above this many products a step scores a sample of the catalogue, not all of it. The demo
#: data (2,000 products) and the Amazon samples (3,529 and 5,689) keep the exact softmax; at the
#: seed's shape (48,769) a full-catalogue epoch took 198 s on this machine.
FULL_SOFTMAX_MAX_ITEMS = 8_192
#: Products drawn per step of the sampled softmax (shared by the batch's users, plus their own).
SAMPLED_ITEMS = 4_096
