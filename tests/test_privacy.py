"""Tests of gridmap.privacy: small-count suppression and sparse-cell masking."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from shapely.geometry import box

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


def test_a_rate_of_two_counts_is_blanked_with_either():
    t = pd.DataFrame({"n": [20, 3, 30], "closed": [2, 3, 30], "rate": [0.1, 1.0, 1.0]})
    out = privacy.suppress_small_counts(t, ["n", "closed"], k=5,
                                        dependent={"rate": ("closed", "n")})
    assert out["rate"].isna().tolist() == [True, True, False]


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


# ------------------------------------------------------------- complementary suppression
# An independent audit: what a reader who sees the published table and the totals of every
# relation (each group's column totals; each row's margin total) can work out about each
# blank, knowing only that a blank is a whole count ≥ 1 (zeros are published). The range of
# each blank is found by linear programming over all blanks at once.


def _relations(raw: pd.DataFrame, columns, groups, margins):
    """(cells, signs, published total) of every relation, cells as (row, column)."""
    out = []
    for col in columns:
        for g in pd.unique(groups):
            rows = np.flatnonzero(groups == g)
            out.append(([(r, col) for r in rows], [1] * len(rows), raw[col].iloc[rows].sum()))
    for total, parts in (margins or {}).items():
        for r in range(len(raw)):
            out.append(([(r, total)] + [(r, p) for p in parts], [1] + [-1] * len(parts), 0))
    return out


def _blank_ranges(raw, published, columns, groups, margins=None, *, k=None):
    """{(row, column): (lowest, highest)} a reader can deduce for each blank; with ``k``, a
    reader who also knows which blanks are small counts (1 … k − 1) and which complements
    (≥ k)."""
    blanks = [(r, c) for c in columns for r in range(len(raw)) if pd.isna(published[c].iloc[r])]
    index = {b: i for i, b in enumerate(blanks)}
    a_eq, b_eq = [], []
    for cells, signs, total in _relations(raw, columns, groups, margins):
        row = np.zeros(len(blanks))
        known = total
        for cell, sign in zip(cells, signs, strict=True):
            if cell in index:
                row[index[cell]] += sign
            else:
                known -= sign * raw[cell[1]].iloc[cell[0]]
        if row.any():
            a_eq.append(row)
            b_eq.append(known)
    bounds = [(1, None) if k is None else (1, k - 1) if raw[c].iloc[r] < k else (k, None)
              for r, c in blanks]
    ranges = {}
    for b, i in index.items():
        c = np.zeros(len(blanks))
        c[i] = 1.0
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds).fun
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds)
        ranges[b] = (round(lo, 6), np.inf if hi.status == 3 else round(-hi.fun, 6))
    return ranges


def _check_relations(raw, published, columns, groups, margins=None):
    """Every relation has 0 or ≥ 2 nonzero blanks (or a single nonzero cell: its total)."""
    for cells, _, _ in _relations(raw, columns, groups, margins):
        nonzero = [c for c in cells if raw[c[1]].iloc[c[0]] > 0]
        blank = [c for c in nonzero if pd.isna(published[c[1]].iloc[c[0]])]
        assert len(blank) != 1 or len(nonzero) == 1, (cells, blank)


def _streets():
    return pd.DataFrame({
        "grid": ["a", "b", "c", "d", "e", "f", "g", "h"],
        "street": ["s1", "s1", "s1", "s2", "s2", "s3", "s3", "s3"],
        "n": [0, 3, 11, 6, 8, 2, 4, 9],
        "n_per_km2": [0.0, 6.0, 22.0, 12.0, 16.0, 4.0, 8.0, 18.0],
    })


def test_a_blank_recoverable_from_its_street_total_gets_a_complement():
    t = _streets()
    groups = t["street"].to_numpy()
    before = privacy.suppress_small_counts(t, ["n"], k=5)
    # primary only: s1's total 14 minus the published 11 gives the blank 3 exactly
    assert _blank_ranges(t, before, ["n"], groups)[(1, "n")] == (3, 3)
    out = privacy.suppress_complementary(t, ["n"], by="street", k=5,
                                         dependent={"n_per_km2": "n"}, secondary="secondary")
    assert out["n"].isna().tolist() == [False, True, True, False, False, True, True, False]
    assert out["n_per_km2"].isna().tolist() == out["n"].isna().tolist()
    assert out["secondary"].tolist() == [False, False, True, False, False, False, False, False]
    assert out["suppressed"].tolist() == out["n"].isna().tolist()
    _check_relations(t, out, ["n"], groups)
    ranges = _blank_ranges(t, out, ["n"], groups)
    assert all(hi > lo for lo, hi in ranges.values()), ranges
    # s2 had nothing blank and keeps every value; s3 already had two blanks (2 + 4)
    assert out.loc[[3, 4, 7], "n"].tolist() == [6, 8, 9]
    pd.testing.assert_frame_equal(t, _streets())  # input untouched


def test_one_published_total_and_the_smallest_complement():
    t = pd.DataFrame({"n": [20, 3, 9, 0, 12]})
    out = privacy.suppress_complementary(t, ["n"], k=5, secondary="secondary")
    assert out["n"].isna().tolist() == [False, True, True, False, False]
    assert out["secondary"].tolist() == [False, False, True, False, False]
    assert _blank_ranges(t, privacy.suppress_small_counts(t, ["n"]), ["n"],
                         np.zeros(5))[(1, "n")] == (3, 3)
    assert all(hi > lo for lo, hi in _blank_ranges(t, out, ["n"], np.zeros(5)).values())


def test_ties_go_to_the_first_row():
    t = pd.DataFrame({"n": [7, 3, 7, 9]})
    out = privacy.suppress_complementary(t, ["n"], k=5)
    assert out["n"].isna().tolist() == [True, True, False, False]


def test_nothing_blank_means_nothing_changes():
    t = pd.DataFrame({"street": ["s1", "s1", "s2"], "n": [5, 0, 12], "rate": [1.0, 0.0, 2.4]})
    out = privacy.suppress_complementary(t, ["n"], by="street", dependent={"rate": "n"},
                                         flag=None)
    pd.testing.assert_frame_equal(out, t)


@pytest.mark.parametrize("k", [0, 1])
def test_complementary_k_of_one_or_zero_suppresses_nothing(k):
    t = pd.DataFrame({"n": [1, 2, 30]})
    out = privacy.suppress_complementary(t, ["n"], k=k)
    assert out["n"].tolist() == [1, 2, 30]
    assert not out["suppressed"].any()


@pytest.mark.parametrize(("values", "hidden"), [
    ([1, 1, 50], [True, True, True]),  # the two blanks add up to 2: both are 1
    ([4, 4, 50], [True, True, True]),  # …to 8 with k = 5: both are 4
    ([2, 3, 50], [True, True, False]),  # 5 = 1 + 4 = 2 + 3 = …: safe as it is
    ([1, 5, 20], [True, True, True]),  # 1 + 5: a small count (≥ 1) and a complement (≥ 5)
    ([2, 5, 20], [True, True, False]),  # 7 = 1 + 6 = 2 + 5
])
def test_blanks_pinned_by_their_sum_get_company(values, hidden):
    t = pd.DataFrame({"n": values})
    out = privacy.suppress_complementary(t, ["n"], k=5)
    assert out["n"].isna().tolist() == hidden


def test_all_ones_pinned_before_and_not_after():
    t = pd.DataFrame({"n": [1, 1, 50, 60]})
    before = privacy.suppress_small_counts(t, ["n"], k=5)
    g = np.zeros(4)
    assert _blank_ranges(t, before, ["n"], g)[(0, "n")] == (1, 1)
    out = privacy.suppress_complementary(t, ["n"], k=5)
    assert out["n"].isna().tolist() == [True, True, True, False]
    assert all(hi > lo for lo, hi in _blank_ranges(t, out, ["n"], g).values())


def test_row_margins_and_groups_are_applied_until_stable():
    # n = a + b in each row; one published total per column. Blanking a₁ = 3 needs a₂ (its
    # column) and b₁ (its row); a₂ then needs b₂ (its row).
    t = pd.DataFrame({"n": [10, 12], "a": [3, 6], "b": [7, 6],
                      "a_share": [0.3, 0.5]})
    margins = {"n": ["a", "b"]}
    g = np.zeros(2)
    before = privacy.suppress_small_counts(t, ["n", "a", "b"], k=5)
    assert _blank_ranges(t, before, ["n", "a", "b"], g, margins)[(0, "a")] == (3, 3)
    out = privacy.suppress_complementary(t, ["n", "a", "b"], margins=margins, k=5,
                                         dependent={"a_share": ("a", "n")}, secondary="sec")
    assert out["n"].tolist() == [10, 12]
    assert out["a"].isna().all()
    assert out["b"].isna().all()
    assert out["a_share"].isna().all()
    assert out["sec"].tolist() == [True, True]
    _check_relations(t, out, ["n", "a", "b"], g, margins)
    ranges = _blank_ranges(t, out, ["n", "a", "b"], g, margins)
    assert ranges[(0, "a")] == (1, 8)  # a₁ = t, a₂ = 9 − t, b₁ = 10 − t, b₂ = 3 + t


def test_a_row_whose_total_is_the_only_blank_gets_a_part_blanked():
    # n₀ = 3 needs n₁ = 12 (column n); row 1 then has its total as its only blank (a₁ = 0,
    # b₁ = 12 published) and needs b₁, and column b then needs b₂
    t = pd.DataFrame({"n": [3, 12, 30], "a": [3, 0, 15], "b": [0, 12, 15]})
    margins = {"n": ["a", "b"]}
    out = privacy.suppress_complementary(t, ["n", "a", "b"], margins=margins, k=5)
    assert out["n"].isna().tolist() == [True, True, False]
    assert out["a"].isna().tolist() == [True, False, True]
    assert out["b"].isna().tolist() == [False, True, True]
    g = np.zeros(3)
    _check_relations(t, out, ["n", "a", "b"], g, margins)
    assert all(hi > lo for lo, hi in _blank_ranges(t, out, ["n", "a", "b"], g, margins).values())


def test_by_accepts_several_columns_an_array_and_missing_keys():
    t = pd.DataFrame({"s": ["x", "x", "x", None, None], "c": [1, 1, 2, 1, 1],
                      "n": [3, 8, 9, 2, 6]})
    by_cols = privacy.suppress_complementary(t, ["n"], by=["s", "c"], k=5)
    # group (x, 1) = rows 0, 1; group (x, 2) = row 2 alone; group (None, 1) = rows 3, 4
    assert by_cols["n"].isna().tolist() == [True, True, False, True, True]
    by_array = privacy.suppress_complementary(
        t, ["n"], by=(t["s"].fillna("?") + t["c"].astype(str)).to_numpy(), k=5)
    pd.testing.assert_frame_equal(by_cols, by_array)


def test_random_tables_keep_the_rule_and_the_primary_blanks():
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(2, 15))
        t = pd.DataFrame({"g": rng.integers(0, 3, n), "x": rng.integers(0, 12, n),
                          "y": rng.integers(0, 12, n)})
        t["n"] = t["x"] + t["y"]
        out = privacy.suppress_complementary(t, ["n", "x", "y"], by="g",
                                             margins={"n": ["x", "y"]}, k=4)
        for c in ("n", "x", "y"):
            small = (t[c] > 0) & (t[c] < 4)
            assert out[c][small].isna().all()
            assert not out[c][t[c] == 0].isna().any()
            assert (out[c].dropna() == t[c][out[c].notna()]).all()
        _check_relations(t, out, ["n", "x", "y"], t["g"].to_numpy(), {"n": ["x", "y"]})


def test_one_grouping_pins_no_blank_even_when_complements_are_known():
    """Against group totals only, a reader who can tell small counts (1 … k − 1) from
    complements (≥ k) still cannot pin any blank, unless its group has nothing left to blank."""
    rng = np.random.default_rng(3)
    for _ in range(30):
        n = int(rng.integers(3, 12))
        t = pd.DataFrame({"g": rng.integers(0, 3, n), "n": rng.integers(0, 9, n)})
        out = privacy.suppress_complementary(t, ["n"], by="g", k=4)
        g = t["g"].to_numpy()
        ranges = _blank_ranges(t, out, ["n"], g, k=4)
        for (r, _), (lo, hi) in ranges.items():
            rest = (g == g[r]) & (t["n"] > 0).to_numpy() & out["n"].notna().to_numpy()
            assert hi > lo or not rest.any(), (t, out)


def test_a_geodataframe_keeps_its_geometry():
    t = gpd.GeoDataFrame({"n": [3, 8, 9]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1),
                                                     box(2, 0, 3, 1)], crs=4549)
    out = privacy.suppress_complementary(t, ["n"], k=5)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs == t.crs
    assert out["n"].isna().tolist() == [True, True, False]


def test_complementary_errors():
    t = pd.DataFrame({"n": [3, 8], "a": [1, 2], "s": ["x", "y"]})
    with pytest.raises(ValueError, match="not among the count columns"):
        privacy.suppress_complementary(t, ["n"], margins={"n": ["a"]})
    with pytest.raises(ValueError, match="group keys for 2 rows"):
        privacy.suppress_complementary(t, ["n"], by=np.array(["x"]))
    with pytest.raises(KeyError, match="street"):
        privacy.suppress_complementary(t, ["n"], by="street")
    with pytest.raises(ValueError, match="whole number"):
        privacy.suppress_complementary(t, ["n"], k=-1)


def _unit_period(rng, n_units: int, n_periods: int, high: int) -> pd.DataFrame:
    units, periods = np.meshgrid(np.arange(n_units), np.arange(n_periods), indexing="ij")
    return pd.DataFrame({"unit": units.ravel(), "period": periods.ravel(),
                         "n": rng.integers(0, high, units.size)})


def test_also_by_protects_both_totals_of_a_two_way_table():
    """A unit × period table whose unit totals and period totals are both published: each
    unit and each period holds no blank or at least two among its nonzero cells."""
    rng = np.random.default_rng(11)
    for _ in range(40):
        t = _unit_period(rng, int(rng.integers(2, 6)), int(rng.integers(2, 7)), 10)
        out = privacy.suppress_complementary(t, ["n"], by="unit", also_by="period", k=4)
        small = (t["n"] > 0) & (t["n"] < 4)
        assert out["n"][small].isna().all()
        assert not out["n"][t["n"] == 0].isna().any()
        for key in ("unit", "period"):
            _check_relations(t, out, ["n"], t[key].to_numpy())
        # by unit alone leaves some period with a single blank in some of these tables
        one_way = privacy.suppress_complementary(t, ["n"], by="unit", k=4)
        assert one_way["n"].isna().sum() <= out["n"].isna().sum()


def test_also_by_hand_checked():
    """Two units × two periods, k = 3: the small count 2 would be given away by its unit
    total (so 5 goes with it), then period 1 holds one blank (so 7 goes), then unit b
    holds one (so 9 goes)."""
    t = pd.DataFrame({"unit": ["a", "a", "b", "b"], "period": [1, 2, 1, 2], "n": [2, 5, 7, 9]})
    by_unit = privacy.suppress_complementary(t, ["n"], by="unit", k=3)
    assert by_unit["n"].isna().tolist() == [True, True, False, False]
    both = privacy.suppress_complementary(t, ["n"], by="unit", also_by="period", k=3)
    assert both["n"].isna().tolist() == [True, True, True, True]


def test_a_text_column_derived_from_a_count_is_blanked_too():
    t = pd.DataFrame({"n": [2, 9, 7], "hotspot": ["hot", "cold", "not significant"],
                      "flag": [True, False, True]})
    out = privacy.suppress_complementary(t, ["n"], k=5, dependent={"hotspot": "n", "flag": "n"})
    # 2 is small and 7 its complement against the table's total
    assert out["n"].isna().tolist() == [True, False, True]
    assert out["hotspot"].isna().tolist() == [True, False, True]
    assert out["hotspot"].iloc[1] == "cold"
    assert out["flag"].isna().tolist() == [True, False, True]
    assert t["hotspot"].tolist() == ["hot", "cold", "not significant"]  # input unchanged
