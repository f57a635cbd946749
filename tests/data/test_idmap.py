"""IdMap: dense 1-based ids in order of first use, 0 = padding/unknown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from driftrec.data.idmap import IdMap


def test_build_numbers_ids_by_first_appearance() -> None:
    m = IdMap.build(pl.Series(["b", "a", "b", "c", "a"]))
    assert len(m) == 3
    assert m.ids.to_list() == ["b", "a", "c"]
    np.testing.assert_array_equal(m.encode(pl.Series(["a", "b", "c"])), [2, 1, 3])


def test_build_casts_integers_to_strings() -> None:
    m = IdMap.build(pl.Series([10, 7, 10]))
    assert m.ids.dtype == pl.String
    np.testing.assert_array_equal(m.encode(pl.Series([7, 10])), [2, 1])
    np.testing.assert_array_equal(m.encode(pl.Series(["7"])), [2])


def test_encode_decode_round_trip() -> None:
    values = pl.Series(["x", "y", "z", "y", "x", "w"])
    m = IdMap.build(values)
    dense = m.encode(values)
    assert dense.dtype == np.int64
    np.testing.assert_array_equal(dense, [1, 2, 3, 2, 1, 4])
    assert m.decode(dense) == values.to_list()


@pytest.mark.parametrize(
    ("values", "unknown", "expected"),
    [
        (["a", "zz", "b"], 0, [1, 0, 2]),
        (["zz", "yy"], 0, [0, 0]),
        (["zz", "b"], -1, [-1, 2]),
        ([None, "a"], 0, [0, 1]),
        ([], 0, []),
    ],
)
def test_encode_unknown(values: list[str | None], unknown: int, expected: list[int]) -> None:
    m = IdMap.build(pl.Series(["a", "b"]))
    got = m.encode(pl.Series(values, dtype=pl.String), unknown=unknown)
    np.testing.assert_array_equal(got, np.array(expected, dtype=np.int64))


def test_decode_padding_and_out_of_range_are_none() -> None:
    m = IdMap.build(pl.Series(["a", "b"]))
    assert m.decode(np.array([0, 1, 2, 3, -1])) == [None, "a", "b", None, None]


def test_extend_keeps_existing_numbers_and_appends_new_ids_in_first_use_order() -> None:
    m = IdMap.build(pl.Series(["a", "b", "c"]))
    bigger = m.extend(pl.Series(["d", "b", "e", "d", "a"]))
    assert bigger.ids.to_list() == ["a", "b", "c", "d", "e"]
    old = pl.Series(["a", "b", "c"])
    np.testing.assert_array_equal(bigger.encode(old), m.encode(old))
    np.testing.assert_array_equal(bigger.encode(pl.Series(["d", "e"])), [4, 5])
    assert len(m) == 3  # the original is unchanged (frozen)
    assert m.extend(pl.Series(["c", "a"])).ids.to_list() == ["a", "b", "c"]


def test_save_load_round_trip(tmp_path: Path) -> None:
    m = IdMap.build(pl.Series(["u9", "u1", "u5"]))
    path = tmp_path / "users.parquet"
    m.save(path)
    loaded = IdMap.load(path)
    assert loaded.ids.to_list() == ["u9", "u1", "u5"]
    np.testing.assert_array_equal(loaded.encode(pl.Series(["u5", "u9"])), [3, 1])


def test_load_accepts_rows_out_of_order(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    pl.DataFrame({"dense_id": [2, 1, 3], "external_id": ["b", "a", "c"]}).write_parquet(path)
    assert IdMap.load(path).ids.to_list() == ["a", "b", "c"]


@pytest.mark.parametrize("dense", [[1, 3], [2, 3], [0, 1], [1, 1]])
def test_load_rejects_gaps(tmp_path: Path, dense: list[int]) -> None:
    path = tmp_path / "m.parquet"
    pl.DataFrame({"dense_id": dense, "external_id": ["a", "b"]}).write_parquet(path)
    with pytest.raises(ValueError, match=r"dense ids are not 1\.\.2 without gaps"):
        IdMap.load(path)
