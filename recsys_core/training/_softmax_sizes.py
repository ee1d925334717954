"""The sizes of one softmax step, apart from the trainer so that the estimate of a run
(:mod:`recsys_core.training._budget`) reads them without importing torch."""

#: Above this many products a step scores a sample of the catalogue, not all of it.
FULL_SOFTMAX_MAX_ITEMS = 50_000
#: Products scored per step of the sampled softmax (shared by the batch's users).
SAMPLED_ITEMS = 8_192
