# The front door, read by lazy_loader at import time (and by type checkers).
from .config import PRESETS, TrainConfig
from .data import Ratings, demo_ratings, load_products, load_ratings
from .errors import RecsysError
from .pipeline import train
from .runs import Run, load_run
