"""Tests of gridmap.i18n: lookup, formatting, registration rules, locale defaults."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from gridmap import GridmapError, i18n
from gridmap.i18n import (
    LANGS,
    I18nError,
    column_label,
    default_lang,
    has,
    has_column,
    label_columns,
    register,
    register_columns,
    tr,
)


def test_tr_returns_each_language_and_formats():
    register({"test.greet": {"zh": "你好，{name}（{n} 个）", "en": "Hello, {name} ({n})"}})
    assert tr("test.greet", "zh", name="嘉兴", n=3) == "你好，嘉兴（3 个）"
    assert tr("test.greet", "en", name="Jiaxing", n=3) == "Hello, Jiaxing (3)"


def test_tr_without_fmt_keeps_braces():
    register({"test.braces": {"zh": "{x}/{y}/{z}", "en": "{z}/{x}/{y}"}})
    assert tr("test.braces", "en") == "{z}/{x}/{y}"


def test_unknown_key_and_language_raise_project_errors():
    with pytest.raises(I18nError, match="no string registered"):
        tr("test.no-such-key", "zh")
    with pytest.raises(I18nError, match="unknown language 'fr'"):
        tr("app.title", "fr")
    assert issubclass(I18nError, GridmapError)


def test_register_requires_every_language():
    with pytest.raises(I18nError, match=r"lacks \['en'\]"):
        register({"test.half": {"zh": "半"}})
    assert not has("test.half")


def test_register_same_text_twice_is_fine_but_conflict_raises():
    register({"test.same": {"zh": "同", "en": "same"}})
    register({"test.same": {"zh": "同", "en": "same"}})
    with pytest.raises(I18nError, match="already registered"):
        register({"test.same": {"zh": "异", "en": "other"}})
    assert tr("test.same", "en") == "same"


def test_register_is_all_or_nothing():
    with pytest.raises(I18nError):
        register({"test.ok1": {"zh": "一", "en": "one"}, "test.bad": {"en": "x"}})
    assert not has("test.ok1")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh-CN", "zh"), ("zh_TW", "zh"), ("ZH", "zh"), ("en-US", "en"), ("de", "en"),
        (None, "zh"), ("", "zh"),
    ],
)
def test_default_lang(locale, expected):
    assert default_lang(locale) == expected


def test_every_string_has_both_languages_with_the_same_placeholders():
    field = re.compile(r"\{(\w+)\}")
    for key, texts in i18n._STRINGS.items():
        assert set(texts) == set(LANGS), key
        assert all(texts[lang].strip() for lang in LANGS), key
        if key.startswith("ws.custom_url"):  # the help text shows a URL template
            continue
        assert set(field.findall(texts["zh"])) == set(field.findall(texts["en"])), key


# ------------------------------------------------------------------ column labels

_CJK = re.compile(r"[\u3400-\u9fff]")


def test_column_label_in_each_language_and_raw_name_when_unknown():
    register_columns({"test_col_a": {"zh": "甲列", "en": "Column A"}})
    assert column_label("test_col_a", "zh") == "甲列"
    assert column_label("test_col_a", "en") == "Column A"
    assert column_label("test_no_such_col", "en") == "test_no_such_col"
    with pytest.raises(I18nError, match="no label registered for column 'test_no_such_col'"):
        column_label("test_no_such_col", "zh", strict=True)
    with pytest.raises(I18nError, match="unknown language 'fr'"):
        column_label("test_col_a", "fr")


def test_register_columns_rules_match_register():
    register_columns({"test_col_b": {"zh": "乙", "en": "B"}})
    register_columns({"test_col_b": {"zh": "乙", "en": "B"}})  # re-import: same texts
    with pytest.raises(I18nError, match="already registered"):
        register_columns({"test_col_b": {"zh": "丙", "en": "C"}})
    with pytest.raises(I18nError, match=r"lacks \['zh'\]"):
        register_columns({"test_col_c": {"en": "C"}, "test_col_d": {"zh": "丁", "en": "D"}})
    assert not has_column("test_col_c")
    assert not has_column("test_col_d")  # all or nothing
    assert not has("test_col_b")  # headers and strings are separate tables


def test_label_columns_renames_a_copy_keeps_named_and_raises_when_strict():
    register_columns({"test_col_e": {"zh": "戊", "en": "E"},
                      "test_col_f": {"zh": "己", "en": "F"}})
    df = pd.DataFrame({"test_col_e": [1, 2], "own header": ["x", "y"]},
                      index=pd.Index([10, 20], name="test_col_f"))
    out = label_columns(df, "zh", keep=["own header"])
    assert list(out.columns) == ["戊", "own header"]
    assert out.index.name == "己"
    assert out["戊"].tolist() == [1, 2]
    assert list(df.columns) == ["test_col_e", "own header"]  # the input is untouched
    assert df.index.name == "test_col_f"
    assert list(label_columns(df, "en").columns) == ["E", "own header"]  # unknown: raw name
    with pytest.raises(I18nError, match=r"columns \['own header'\]"):
        label_columns(df, "en", strict=True)
    assert list(label_columns(df, "en", keep=["own header"], strict=True).columns) == [
        "E", "own header"]


def test_every_column_label_reads_as_its_language():
    assert i18n._COLUMNS, "no column labels registered"
    for name, texts in i18n._COLUMNS.items():
        if name.startswith("test_"):
            continue
        assert _CJK.search(texts["zh"]), name
        assert not _CJK.search(texts["en"]), name
        assert "_" not in texts["en"], name
        assert texts["zh"] != texts["en"], name
    # one label, one column: two columns with the same header would be ambiguous
    for lang in LANGS:
        labels = [t[lang] for n, t in i18n._COLUMNS.items() if not n.startswith("test_")]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        assert not dupes, (lang, dupes)


def test_label_values_translates_registered_words_only_in_a_copy():
    df = pd.DataFrame({
        "zone": ["urban", "rural", "urban"],
        "status": ["met", "short", "something new"],
        "name": ["urban", "met", "x"],  # a person's own words: no vocabulary
    })
    before = df.copy()
    zh = i18n.label_values(df, "zh")
    assert zh["zone"].tolist() == ["城区", "农村", "城区"]
    assert zh["status"].tolist() == ["达标", "未达标", "something new"]
    assert zh["name"].tolist() == ["urban", "met", "x"]
    pd.testing.assert_frame_equal(df, before)
    assert i18n.label_values(df, "en")["status"].tolist() == ["met", "short", "something new"]
    kept = i18n.label_values(df, "zh", keep=["zone"])
    assert kept["zone"].tolist() == ["urban", "rural", "urban"]
    numbers = pd.DataFrame({"status": [1, 2]})  # not text: left alone
    assert i18n.label_values(numbers, "zh")["status"].tolist() == [1, 2]


def test_register_values_rules_match_register():
    i18n.register_values("zone", {"urban": {"zh": "城区", "en": "urban"}})  # same again: fine
    with pytest.raises(GridmapError, match="already registered"):
        i18n.register_values("zone", {"urban": {"zh": "市区", "en": "urban"}})
    with pytest.raises(GridmapError, match="lacks"):
        i18n.register_values("zone", {"suburb": {"zh": "城郊"}})


def test_every_library_vocabulary_has_labels():
    """The words the library writes into result tables all have a Chinese label."""
    from gridmap.gb28181 import DEVICE_TYPES
    from gridmap.hotspots import _BIN_LABELS
    from gridmap.ingest import REASONS
    from gridmap.schema import LAYERS
    from gridmap.validate import ISSUE_KINDS

    expect = {
        "type_name": set(DEVICE_TYPES.values()),
        "hotspot": set(_BIN_LABELS.values()),
        "reason": set(REASONS),
        "kind": set(ISSUE_KINDS),
        "status": {"met", "short"} | set(LAYERS["cameras"].vocab["status"])
        | set(LAYERS["incidents"].vocab["status"]),
        "zone": set(LAYERS["grids"].vocab["zone"]),
    }
    for column, words in expect.items():
        frame = pd.DataFrame({column: sorted(words)})
        zh = i18n.label_values(frame, "zh")[column]
        untranslated = sorted(w for w, t in zip(frame[column], zh, strict=True) if w == t)
        assert not untranslated, (column, untranslated)
        assert all(re.search(r"[\u4e00-\u9fff]", t) for t in zh), column
