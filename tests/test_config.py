"""TrainConfig: the default is the recommended recipe, presets cannot be changed in place, and runs
saved before the default changed keep the settings they were trained with."""

from __future__ import annotations

import dataclasses
import json

import pytest

from recsys_core.config import NOTEBOOK_MULTIPLIERS, PRESETS, TrainConfig
from recsys_core.errors import RecsysError


def test_the_default_config_is_the_recommended_recipe_not_the_notebook() -> None:
    assert TrainConfig() == PRESETS["recommended"]
    assert TrainConfig() != PRESETS["notebook"]
    assert TrainConfig().objective == "softmax" and TrainConfig().neighbours > 0


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_frozen(name: str) -> None:
    preset = PRESETS[name]
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset.epochs = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        preset.multipliers[1.0] = 9.0  # type: ignore[index]
    with pytest.raises(TypeError):
        PRESETS["mine"] = preset  # type: ignore[index]
    assert TrainConfig.preset(name) == preset  # still as shipped


def test_replace_validates_and_refuses_unknown_settings() -> None:
    config = TrainConfig.preset("fast").replace(epochs=3, multipliers={1: 2})
    assert config.epochs == 3 and dict(config.multipliers) == {1.0: 2.0}
    assert PRESETS["fast"].epochs == 12 and not PRESETS["fast"].multipliers
    with pytest.raises(RecsysError, match="epochs"):
        TrainConfig().replace(epochs=0)
    with pytest.raises(RecsysError, match=r"Unknown training setting.*epoch_count"):
        TrainConfig().replace(epoch_count=3)
    assert dataclasses.replace(TrainConfig(), seed=7).seed == 7


def test_configs_are_hashable_and_round_trip_through_json() -> None:
    notebook = PRESETS["notebook"]
    assert len({notebook, TrainConfig.from_dict(json.loads(notebook.to_json()))}) == 1
    assert dict(notebook.multipliers) == dict(NOTEBOOK_MULTIPLIERS)
    assert notebook.multipliers == {1.0: 2.5, 2.0: 3.0, 3.0: 2.0}


def test_a_config_saved_before_the_default_changed_keeps_its_old_meaning() -> None:
    # A run saved by an older version lacks the later settings; they had the notebook's values.
    old = {"embedding_dim": 32, "batch_size": 64, "epochs": 7, "learning_rate": 0.001, "seed": 1}
    config = TrainConfig.from_dict(old)
    assert config.objective == "rating" and config.neighbours == 0
    assert config.multipliers == NOTEBOOK_MULTIPLIERS and config.embedding_dim == 32


def test_a_sampled_catalogue_keeps_the_smaller_default_step() -> None:
    from recsys_core.config import DEFAULT_LEARNING_RATE, SAMPLED_LEARNING_RATE

    default = TrainConfig()
    assert default.learning_rate == DEFAULT_LEARNING_RATE
    assert default.for_catalogue(sampled=False) is default
    assert default.for_catalogue(sampled=True).learning_rate == SAMPLED_LEARNING_RATE
    by_hand = default.replace(learning_rate=0.05)  # a step set by hand is kept
    assert by_hand.for_catalogue(sampled=True).learning_rate == 0.05
    hybrid = TrainConfig.preset("fast")  # only the softmax samples its catalogue
    assert hybrid.for_catalogue(sampled=True) is hybrid
