"""Tests of gridmap.privacy: small-count suppression and sparse-cell masking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridmap import privacy


def test_counts_between_one_and_k_are_suppressed_with_their_rates():
    t = pd.DataFrame({"grid": list("abcde"), "n": [0, 1, 4, 5, 12],
                      "n_per_km2": [0.0, 2.0, 8.0, 10.0, 24.0]})
    out = privacy.suppress_small_counts(t, ["n"], k=5, dependent={"n_per_km2": "n"})
    assert out["n"].isna().tolist() == [False, True, True, False, False]
    assert out["n_per_km2"].isna().tolist() == [False, True, True, False, False]
    assert out["suppressed"].tolist() == [False, True, True, False, False]
    assert out.loc[0, "n"] == 0  # zero discloses nobody
    assert t["n"].tolist() == [0, 1, 4, 5, 12]  # input untouched


def test_each_split_column_is_checked():
    t = pd.DataFrame({"n_theft": [3, 9], "n_fire": [10, 2]})
    out = privacy.suppress_small_counts(t, ["n_theft", "n_fire"], k=5, flag=None)
    assert out["n_theft"].isna().tolist() == [True, False]
    assert out["n_fire"].isna().tolist() == [False, True]
    assert "suppressed" not in out.columns


@pytest.mark.parametrize("k", [0, 1])
def test_k_of_one_or_zero_suppresses_nothing(k):
    t = pd.DataFrame({"n": [1, 2, 3]})
    assert privacy.suppress_small_counts(t, ["n"], k=k)["n"].tolist() == [1, 2, 3]


def test_bad_k_and_missing_columns():
    t = pd.DataFrame({"n": [1]})
    with pytest.raises(ValueError, match="whole number"):
        privacy.suppress_small_counts(t, ["n"], k=2.5)
    with pytest.raises(KeyError, match="no column"):
        privacy.suppress_small_counts(t, ["count"])


def test_mask_sparse_cells():
    a = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    counts = np.array([[0, 1, 4], [5, 9, 2]])
    out = privacy.mask_sparse_cells(a, counts, k=5)
    np.testing.assert_array_equal(np.isnan(out), [[False, True, True], [False, False, True]])
    assert out[0, 0] == 0.0
    assert not np.isnan(a).any()
    with pytest.raises(ValueError, match="shape"):
        privacy.mask_sparse_cells(a, counts[:1], k=5)
