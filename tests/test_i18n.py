"""Tests of gridmap.i18n: lookup, formatting, registration rules, locale defaults."""

from __future__ import annotations

import re

import pytest

from gridmap import GridmapError, i18n
from gridmap.i18n import LANGS, I18nError, default_lang, has, register, tr


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
