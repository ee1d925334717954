"""The sizes of one softmax step and of one validation pass, apart from the trainer so that the
estimate of a run (:mod:`recsys_core.training._budget`) reads them without importing torch."""

#: Above this many products a step scores a sample of the catalogue, not all of it. The demo
#: data (2,000 products) and the Amazon samples (3,529 and 5,689) keep the exact softmax; at the
#: seed's shape (48,769) a full-catalogue epoch took 198 s on this machine.
FULL_SOFTMAX_MAX_ITEMS = 8_192
#: Products drawn per step of the sampled softmax (shared by the batch's users, plus their own).
SAMPLED_ITEMS = 4_096
#: Customer x product scores one validation pass may rank: above it, fewer customers are judged.
#: Every epoch and every blend weight is judged, so at the seed's shape (48,769 products) 20,000
#: customers cost more than the epoch's training; 2,000 of them still measure NDCG@10 to about
#: ±0.003 (one standard error), under the differences that decide an epoch or a weight early on.
VALIDATION_WORK = 100_000_000
#: The fewest customers judged when the catalogue is large.
MIN_JUDGED_USERS = 2_000


def judged_users(n_items: int, most: int) -> int:
    """How many validation customers to rank per judgement: ``most`` (the test metrics' cap)
    unless that would rank more than :data:`VALIDATION_WORK` scores, never fewer than
    :data:`MIN_JUDGED_USERS`."""
    return int(min(most, max(MIN_JUDGED_USERS, VALIDATION_WORK // max(int(n_items), 1))))
