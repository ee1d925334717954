"""RecSys Explorer core: ratings -> split -> balanced training set -> model -> history ->
evaluation -> recommendations. No Streamlit here; the app and the CLI both call this package."""

from recsys_core.errors import RecsysError

__all__ = ["RecsysError"]
__version__ = "0.1.0"
