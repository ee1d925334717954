"""Small trained runs saved into an app's runs folder, for the Try it yourself and Recommend tests."""

from __future__ import annotations

from pathlib import Path

import recsys_core as rs
from recsys_core.config import TrainConfig
from recsys_core.data import Ratings, generate_demo
from recsys_core.runs import DatasetRecord, RunRegistry

#: What the app records of its built-in demo data (``pages.parts.datasets.record``): a run trained on
#: it finds its customers' real stars again.
DEMO_RECORD = {"name": "built-in demo shop", "key": "demo", "file": "demo", "options": {}}


def save_demo_run(
    runs_dir: Path, *, full: bool = False, epochs: int = 12, preset: str = "fast", names: bool = True
) -> str:
    """Train ``preset`` (the fast recipe by default) on demo data and save it into ``runs_dir``;
    returns the run id. ``names=False`` leaves out the product table (a file without names).

    The app's own demo data when ``full``, else a shop of 2,000 customers and 800 products. On a
    much smaller catalogue, a visitor's products-not-rated weigh so much that few suggestions
    have a rating that adds to them ("because" lines go missing); with fewer than the recipe's
    12 epochs, the list barely follows the stars.
    """
    sizes = {} if full else {"n_users": 2000, "n_items": 800, "n_ratings": 40000, "seed": 1}
    demo = generate_demo(**sizes)
    ratings = Ratings.from_frame(demo.ratings, source="built-in demo data")
    config = TrainConfig.preset(preset, epochs=epochs, embedding_dim=16)
    products = demo.products if names else None
    run = rs.train(ratings, config, products=products, name=f"demo shop · try-it test · {preset}")
    if full:
        run.summary.dataset = DatasetRecord.from_json(DEMO_RECORD)
    return RunRegistry(runs_dir).save(run).run_id
