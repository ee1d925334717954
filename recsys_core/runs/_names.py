"""A run's default name in plain words: which data, which recipe, what differs from it, how it ended."""

from __future__ import annotations

from collections.abc import Mapping

from recsys_core.config import PRESETS, TrainConfig, multipliers_text

#: Settings a run name mentions when they differ from the recipe's, in plain words.
_SETTING_WORDS = {
    "epochs": lambda v: f"{v} passes",
    "embedding_dim": lambda v: f"profile size {v}",
    "batch_size": lambda v: f"{v} ratings per step",
    "learning_rate": lambda v: f"learning speed {v:g}",
    "threshold": lambda v: f"“will like” from {v:g}",
    "split": lambda v: f"{v} hold-out",
    "objective": lambda v: f"goal {v}",
    "seed": lambda v: f"seed {v}",
}

#: Short names of the built-in data sets.
_DATASET_WORDS = {"built-in demo data": "demo shop", "built-in demo shop": "demo shop"}


def dataset_label(name: str | None) -> str:
    """The short name of a data set for run names and tables (``"demo shop"``, a file name)."""
    if not name:
        return "data not recorded"
    return _DATASET_WORDS.get(str(name), str(name))


def closest_preset(config: TrainConfig, presets: Mapping[str, TrainConfig]) -> tuple[str, list[str]]:
    """The preset ``config`` differs least from, and the settings where it differs (field names)."""

    def differences(preset: TrainConfig) -> list[str]:
        return [f for f in _SETTING_WORDS if getattr(config, f) != getattr(preset, f)]

    best = min(presets, key=lambda name: len(differences(presets[name])))
    return best, differences(presets[best])


def run_name(
    config: TrainConfig,
    dataset: str | None = None,
    *,
    epochs_done: int | None = None,
    stopped: bool = False,
) -> str:
    """A run's default name, e.g. ``"demo shop · fast recipe, 4 passes · no extra copies"``.

    Parameters
    ----------
    config
        The run's recipe; settings that differ from the closest preset are named.
    dataset
        The data set's name (``Ratings.report.source``); left out when ``None``.
    epochs_done, stopped
        When training stopped before its last epoch: ``"stopped at epoch N"`` is added.
    """
    preset, changed = closest_preset(config, PRESETS)
    recipe = ", ".join([f"{preset} recipe", *(_SETTING_WORDS[f](getattr(config, f)) for f in changed)])
    extra = multipliers_text(config.multipliers)
    copies = "no extra copies" if extra.startswith("none") else f"extra copies {extra}"
    parts = [recipe, copies]
    if dataset:
        parts.insert(0, dataset_label(dataset))
    if stopped and epochs_done is not None and epochs_done < config.epochs:
        parts.append(f"stopped at epoch {epochs_done}")
    return " · ".join(parts)
