"""IdMap: ids to codes and back, unknown ids, saving without pickle."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from conftest import SharedData
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys_core.data import IdMap
from recsys_core.errors import RecsysError


def frame(users: list[str], items: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"user": users, "item": items, "rating": np.ones(len(users))})


def test_fit_lists_each_id_once_in_sorted_order() -> None:
    id_map = IdMap.fit(frame(["u3", "u1", "u3", "u2"], ["b", "a", "c", "a"]))
    assert list(id_map.users) == ["u1", "u2", "u3"]
    assert list(id_map.items) == ["a", "b", "c"]
    assert (id_map.n_users, id_map.n_items) == (3, 3)
    assert isinstance(id_map.users, pd.Index) and id_map.users.dtype == "str"


def test_order_does_not_depend_on_row_order() -> None:
    data = frame([f"u{i % 7}" for i in range(50)], [f"i{(i * 13) % 11}" for i in range(50)])
    shuffled = data.sample(frac=1.0, random_state=3)
    assert IdMap.fit(data) == IdMap.fit(shuffled)


def test_encode_maps_known_ids_to_their_position_and_unknown_to_minus_one() -> None:
    id_map = IdMap.fit(frame(["bob", "amy"], ["x", "y"]))
    users, items = id_map.encode(frame(["amy", "bob", "zed"], ["y", "nope", "x"]))
    assert users.dtype == np.int64 and items.dtype == np.int64
    assert users.tolist() == [0, 1, -1]
    assert items.tolist() == [1, -1, 0]


def test_ids_are_text_leading_zeros_kept() -> None:
    # Amazon ASINs such as 0594481813 must not collide with a number that looks the same.
    id_map = IdMap.fit(frame(["a", "b"], ["0594481813", "594481813"]))
    assert id_map.n_items == 2
    assert id_map.encode_items(["0594481813", "594481813"]).tolist() == [
        id_map.items.get_loc("0594481813"),
        id_map.items.get_loc("594481813"),
    ]
    assert id_map.item_code("0594481813") != id_map.item_code("594481813")


def test_encode_accepts_lists_arrays_and_series() -> None:
    id_map = IdMap.fit(frame(["a", "b", "c"], ["x", "y", "z"]))
    expected = [2, 0, -1]
    assert id_map.encode_users(["c", "a", "q"]).tolist() == expected
    assert id_map.encode_users(np.array(["c", "a", "q"])).tolist() == expected
    assert id_map.encode_users(pd.Series(["c", "a", "q"], dtype=object)).tolist() == expected
    assert id_map.encode_users([]).tolist() == []


def test_missing_values_encode_as_unknown() -> None:
    id_map = IdMap.fit(frame(["a"], ["x"]))
    assert id_map.encode_users(pd.Series(["a", None])).tolist() == [0, -1]


def test_user_code_of_one_id() -> None:
    id_map = IdMap.fit(frame(["b", "a"], ["x", "y"]))
    assert id_map.user_code("b") == 1
    assert id_map.user_code("nobody") is None
    assert id_map.item_code("y") == 1
    assert id_map.item_code("nothing") is None


def test_arrays_are_plain_unicode_and_survive_savez_without_pickle() -> None:
    id_map = IdMap.fit(frame(["A3LDPF5FMB782Z", "AKM1MP6P0OYPR", "Zoë"], ["0132793040", "B000M9ISQ2", "x"]))
    arrays = id_map.to_arrays()
    assert set(arrays) == {"users", "items"}
    assert all(a.dtype.kind == "U" for a in arrays.values())
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as loaded:
        restored = IdMap.from_arrays(loaded)
        assert IdMap.from_arrays(loaded["users"], loaded["items"]) == id_map
    assert restored == id_map
    assert restored.user_code("Zoë") == id_map.user_code("Zoë")


def test_empty_map_round_trips() -> None:
    id_map = IdMap.fit(frame([], []))
    assert (id_map.n_users, id_map.n_items) == (0, 0)
    restored = IdMap.from_arrays(id_map.to_arrays())
    assert restored.n_users == 0 and restored.n_items == 0
    assert id_map.encode_users(["a"]).tolist() == [-1]


@pytest.mark.parametrize(
    ("arrays", "fragment"),
    [
        ({"users": np.array(["a"])}, "'items'"),
        ({"users": np.array([1, 2]), "items": np.array(["x"])}, "array of strings"),
        ({"users": np.array(["a", "a"]), "items": np.array(["x"])}, "more than once"),
        ({"users": np.array([["a"]]), "items": np.array(["x"])}, "1-D"),
    ],
)
def test_damaged_arrays_raise_a_readable_error(arrays: dict, fragment: str) -> None:
    with pytest.raises(RecsysError, match=fragment):
        IdMap.from_arrays(arrays)


def test_fit_without_id_columns_says_which_is_missing() -> None:
    with pytest.raises(RecsysError, match="no item column"):
        IdMap.fit(pd.DataFrame({"user": ["a"]}))
    with pytest.raises(RecsysError, match="no user column"):
        IdMap.fit(frame(["a"], ["x"])).encode(pd.DataFrame({"item": ["x"]}))


def test_real_dense_file_encodes_every_row_and_decodes_back(shared_data: SharedData) -> None:
    data = pd.read_csv(shared_data("amazon_electronics_dense.csv"), dtype=str).rename(
        columns={"user_id": "user", "prod_id": "item"}
    )
    id_map = IdMap.fit(data)
    assert (id_map.n_users, id_map.n_items) == (1540, 5689)
    users, items = id_map.encode(data)
    assert users.min() >= 0 and items.min() >= 0
    assert (id_map.users[users] == data["user"].to_numpy()).all()
    assert (id_map.items[items] == data["item"].to_numpy()).all()


def test_real_ids_starting_with_zero_keep_it(shared_data: SharedData) -> None:
    data = pd.read_csv(shared_data("amazon_electronics_head.csv"), dtype=str).rename(
        columns={"UserId": "user", "ItemId": "item"}
    )
    id_map = IdMap.fit(data)
    assert id_map.item_code("0132793040") is not None
    assert id_map.item_code("132793040") is None
    assert id_map.items[0].startswith("0")


@settings(max_examples=40, deadline=None)
@given(
    # IDs are decoded text: never a lone surrogate (UTF-8 cannot hold one) and never NUL.
    st.lists(
        st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6), max_size=30
    ),
    st.lists(st.text(max_size=4), max_size=10),
)
def test_encode_inverts_indexing_for_any_text_ids(train_ids: list[str], queries: list[str]) -> None:
    id_map = IdMap.fit(frame(train_ids, train_ids))
    assert id_map.n_users == len(set(train_ids))
    assert list(id_map.users) == sorted(set(train_ids))
    codes = id_map.encode_users(queries)
    for query, code in zip(queries, codes, strict=True):
        if query in set(train_ids):
            assert id_map.users[code] == query
        else:
            assert code == -1
    assert IdMap.from_arrays(id_map.to_arrays()) == id_map
