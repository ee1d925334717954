"""RecSys Explorer core: ratings → split → balanced training set → model → history → evaluation →
recommendations. No Streamlit here; the app and the ``recsys`` command line both call this package.

The front door::

    import recsys_core as rs

    ratings = rs.load_ratings("ratings.csv")        # or rs.Ratings.from_frame(df)
    run = rs.train(ratings)                         # rs.TrainConfig() is the recommended recipe
    run = rs.train(ratings, rs.TrainConfig.preset("fast"))
    metrics = run.evaluate()                        # the `recsys evaluate --json` object
    run.recommend(user_id, n=10)                    # DataFrame: rank, item, score[, name, category]
    run.recommend_new(visitors_frame, n=10)         # customers the model never saw (fold-in)
    run.similar_items(item_id, n=10)
    run.save("runs/first"); run = rs.load_run("runs/first")

Everything else lives in the packages, one per concept: ``data``, ``model``, ``training``,
``topn``, ``metrics``, ``baselines``, ``runs``, ``report`` (``app`` and ``cli`` are the
presentation layer). Names load on first use, so ``import recsys_core`` does not import torch.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
__version__ = "0.1.0"
