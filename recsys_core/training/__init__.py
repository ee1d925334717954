"""The trainer: mini-batch Adam on binary cross-entropy, with live reports, Stop and best-epoch restore.

:func:`train_model` reproduces the reference notebook's training (BCE between
``sigmoid(<p_u, q_i> + b_u + b_i)`` and the scaled rating ``(r - r_min) / (r_max - r_min)``,
Adam, shuffled mini-batches) without autograd over the embedding tables: the gradients are
written by hand and only the rows a batch touches are updated ("lazy" Adam, see
:mod:`recsys_core.training._optim`). On CPU a numba kernel runs whole runs of batches per call; on CUDA
the same maths runs as torch ops.

What one epoch trains on is built by :func:`epoch_samples` from the objective:

``rating``
    the observed ratings with their scaled targets (the reference);
``ranking``
    every observed rating as a positive (target 1) plus ``negatives`` products the user never
    rated (target 0), drawn afresh every epoch;
``hybrid``
    the observed ratings with their scaled targets plus sampled unrated products at target 0
    with weight :data:`HYBRID_NEGATIVE_WEIGHT`, so the embeddings learn which products a user
    picks (rated above unrated) while low ratings still pull a product down. After every epoch
    :func:`fit_rating_head` fits the model's separate rating head
    (:meth:`~recsys_core.model.NCF.add_rating_head`) to the observed ratings: recommendations
    rank by the trained score, the rating metrics use the head. One score cannot serve both:
    the chance that a user picks a product grows with its popularity, the rating they give it
    does not, so a score trained to rank mixes popularity into every predicted rating.

A package, imported from here. Inside: ``_data`` (:class:`TrainingData`, checks),
``_sampling`` (epochs, negatives), ``_head`` (the rating head), ``_epochs`` (reports,
validation, :class:`EpochBook`), ``_setup`` (:func:`prepare_training_run`, shared with
:mod:`recsys_core.training._distributed`), ``_trainer`` (:func:`train_model`), ``_softmax``
(:func:`train_softmax`, the ``softmax`` objective: a softmax over the whole catalogue, epochs
judged on validation NDCG@10, on one torch thread: :func:`recsys_core.model.one_torch_thread`), ``_val_ndcg``
(:class:`ValidationRanker`: the validation NDCG@10 of the epoch choice and of the blend's
weights) and ``_choice`` (:func:`trainer_for`: which of the two trains a
recipe).
"""

import lazy_loader

# Imported on first use (the stub beside this file lists the names), so that `import recsys_core`
# and the app start without torch.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
