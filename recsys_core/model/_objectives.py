"""The objectives' constants that fold-in shares with training, so that a visitor's profile
solves the same loss as a trained customer's."""

#: Loss weight of a sampled unrated product in the ``hybrid`` objective (observed ratings weigh 1).
#: Chosen on amazon_electronics_dense.csv (``benchmarks/objectives.py --sweep``, 8 negatives,
#: 3 seeds): weight 0.5 found the held-out product 1.67x as often as the most-popular list
#: (ROC AUC 0.716), 2 1.87x (0.751), 4 1.85x (0.753) with half the catalogue coverage.
HYBRID_NEGATIVE_WEIGHT = 2.0

#: L2 penalty per touched row, against the summed log-likelihood of a user's products (user
#: rows of the batch; item rows in proportion to the batch's share of the users), so a user with
#: few ratings stays nearer zero than one with many. Chosen on validation NDCG@10 over 0.1-6
#: (docs/objectives.md: 0.3 and less overfit the sparse sets, 6 underfits).
SOFTMAX_L2 = 2.0
