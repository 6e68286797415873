"""The message catalogs against the code: complete, placeholders intact, loaded without a
compile step, and the language switch falling back to Chinese."""

from __future__ import annotations

import re
import string
from collections import defaultdict
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot import i18n
from bot.i18n import (
    DEFAULT_LANGUAGE,
    _,
    available_languages,
    current_language,
    language_name,
    translations,
)

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ["zh_CN", "en", "mn"]
UPDATE = (
    ".venv/bin/pybabel extract -F babel.cfg -o bot/locales/pingan.pot . && "
    ".venv/bin/pybabel update -i bot/locales/pingan.pot -d bot/locales -D pingan"
)
# What the Mongolian draft must cover: greetings, help and universal replies, the menu, the tip
# report (with its categories) and the emergency replies.
MN_REQUIRED = [
    "handlers/common.py",
    "handlers/menu.py",
    "handlers/menu.yaml",
    "handlers/tips/report.py",
    "handlers/tips/emergency.py",
    "handlers/tips/tips.yaml",
    "handlers/tips/notices.yaml",
]
MONGOLIAN = re.compile("[\u1820-\u1878]")  # the letters of the traditional script


@pytest.fixture(scope="module")
def extracted() -> dict[str, set[str]]:
    """Every msgid the code has, with the files it comes from, extracted as pybabel does."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found: dict[str, set[str]] = defaultdict(set)
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map
    ):
        assert isinstance(message, str), f"plural messages are not used: {message!r}"
        found[message].add(filename)
    assert found, "nothing extracted: is babel.cfg right?"
    return dict(found)


def load(language: str) -> Catalog:
    with i18n.catalog_path(language).open("rb") as po:
        return read_po(po, domain=i18n.DOMAIN)


def translated(catalog: Catalog) -> Iterator[tuple[str, str]]:
    for message in catalog:
        msgid, msgstr, fuzzy = message.id, message.string, message.fuzzy
        if isinstance(msgid, str) and isinstance(msgstr, str) and msgid and msgstr and not fuzzy:
            yield msgid, msgstr


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_catalog_translates_every_string_in_the_code(
    language: str, extracted: dict[str, set[str]]
) -> None:
    done = dict(translated(load(language)))
    missing = sorted(msgid for msgid in extracted if msgid not in done)
    listing = "\n".join(f"  {m!r}  ({', '.join(sorted(extracted[m]))})" for m in missing)
    assert not missing, (
        f"{len(missing)} string(s) missing, empty or fuzzy in {language}:\n{listing}\n"
        f"Run `{UPDATE}`, then translate them in bot/locales/{language}/LC_MESSAGES/pingan.po."
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language: str) -> None:
    wrong = []
    for msgid, msgstr in translated(load(language)):
        try:
            same = fields(msgid) == fields(msgstr)
        except ValueError as exc:  # an unbalanced brace
            same, msgstr = False, f"{msgstr} ({exc})"
        if not same:
            wrong.append(f"  {msgid!r} -> {msgstr!r}")
    assert not wrong, f"{language}: placeholders differ from the msgid:\n" + "\n".join(wrong)


def too_long_for_a_top_button() -> set[str]:
    """Top menu buttons WeChat caps at 16 bytes: five Mongolian letters. Where no Mongolian
    word that short says it, the button keeps its Chinese label (12 bytes)."""
    return {"我要举报", "办事咨询"}


def test_mongolian_covers_greetings_menu_tips_and_emergencies(
    extracted: dict[str, set[str]],
) -> None:
    done = dict(translated(load("mn")))
    required = sorted(
        m
        for m, files in extracted.items()
        if files & set(MN_REQUIRED) and m not in too_long_for_a_top_button()
    )
    assert len(required) > 40
    missing = [m for m in required if m not in done]
    assert not missing, "mn lacks:\n" + "\n".join(f"  {m!r}" for m in missing)


def test_mongolian_is_in_the_traditional_script() -> None:
    done = dict(translated(load("mn")))
    assert done
    not_mongolian = [s for s in done.values() if not MONGOLIAN.search(s)]
    cyrillic = [s for s in done.values() if re.search("[\u0400-\u04ff]", s)]
    assert not not_mongolian and not cyrillic


def test_mongolian_catalog_says_it_is_a_draft() -> None:
    header = load("mn").header_comment
    assert "MACHINE-ASSISTED DRAFT" in header and "native speakers" in header


def test_catalogs_are_the_languages_offered() -> None:
    assert available_languages() == LANGUAGES
    assert [language_name(code) for code in LANGUAGES] == ["中文", "English", "ᠮᠣᠩᠭᠣᠯ"]
    assert language_name("en_US") == "English"
    assert language_name("xx") == "xx"


def say(language: str, msgid: str) -> str:
    token = current_language.set(language)
    try:
        return _(msgid)
    finally:
        current_language.reset(token)


def test_switching_the_language() -> None:
    assert say("en", "不客气！有事随时找我们。") == "You're welcome! Write any time."
    assert say("en", "已取消，填写的内容没有保存。") == "Cancelled. Nothing you entered was saved."
    assert say("en", "类别：{name}").format(name="x") == "Type: x"
    assert say("en", "电信诈骗") == "Phone or online fraud"  # from tips.yaml
    assert say("en", "已办结") == "closed"  # from a STATUS_NAMES constant
    assert say("en-US", "不用带材料。") == say("en_US", "不用带材料。") == "No documents needed."
    assert MONGOLIAN.search(say("mn", "您好，欢迎关注平安助手！"))
    # zh_CN, an unknown language and a string no catalog has: the Chinese msgid.
    assert say(DEFAULT_LANGUAGE, "不用带材料。") == "不用带材料。"
    assert say("fr", "不用带材料。") == say("", "不用带材料。") == "不用带材料。"
    assert say("en", "目录里没有的句子") == "目录里没有的句子"
    assert current_language.get() == DEFAULT_LANGUAGE


def test_untranslated_mongolian_falls_back_to_chinese() -> None:
    untranslated = [m for m in load("mn") if m.id and not m.string]
    if not untranslated:
        pytest.skip("mn is complete")
    assert say("mn", str(untranslated[0].id)) == untranslated[0].id


PO = """\
msgid ""
msgstr ""
"Language: en\\n"
"Content-Type: text/plain; charset=utf-8\\n"

msgid "好"
msgstr "Good"

#, fuzzy
msgid "模糊"
msgstr "Fuzzy"

msgid "空"
msgstr ""
"""


@pytest.fixture
def scratch_locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """bot/i18n reading catalogs from tmp_path, its caches emptied before and after."""
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n.translations.cache_clear()
    i18n._available.cache_clear()
    yield tmp_path
    i18n.translations.cache_clear()
    i18n._available.cache_clear()


def test_po_is_loaded_without_compiling_and_skips_fuzzy_and_empty(scratch_locales: Path) -> None:
    po = i18n.catalog_path("en")
    po.parent.mkdir(parents=True)
    po.write_text(PO, encoding="utf-8")
    assert available_languages() == ["en"]
    assert not list(scratch_locales.rglob("*.mo"))
    assert say("en", "好") == "Good"
    assert say("en", "模糊") == "模糊"
    assert say("en", "空") == "空"
    assert translations("en") is translations("en")  # read once, then cached
    assert not list(scratch_locales.rglob("*.mo"))


def test_extractors_read_constants_and_yaml() -> None:
    source = b'NAMES = {"a": "\xe7\x94\xb2"}\nLABEL = "\xe4\xb9\x99"\nx = _("\xe4\xb8\x99")\n'
    got = [m[2] for m in i18n.extract_python(BytesIO(source), ["_"], [], {"constants": "NAMES"})]
    assert got == ["丙", "甲"]
    with pytest.raises(ValueError, match="MISSING"):
        list(i18n.extract_python(BytesIO(source), ["_"], [], {"constants": "MISSING"}))
    yaml = "items:\n  - {key: a, name: 甲}\n  - name: 乙\n    other: 丙\n".encode()
    got = [m[2] for m in i18n.extract_yaml(BytesIO(yaml), [], [], {"keys": "name"})]
    assert got == ["甲", "乙"]
