"""User-facing text goes through gettext; the message ids are the zh_CN source strings.

The language is per update (a context variable set from the user's profile), so handlers
simply write ``_("…")`` (then ``.format(name=…)`` for placeholders, never f-strings, so the
msgid stays a literal). Strings kept in constants and translated later, ``_(NAMES[key])``,
must be listed in ``babel.cfg`` (``constants = …`` for that file) or marked with ``N_("…")``
so that extraction finds them.

Catalogs are plain ``.po`` files, ``bot/locales/<lang>/LC_MESSAGES/pingan.po``; there is no
compile step: each catalog is read with Babel the first time its language is used, compiled
to MO in memory and cached. Fuzzy and empty entries are left out, so they show the zh_CN
msgid. A language without a catalog gets zh_CN; ``en_US`` or ``mn-Mong`` fall back to
``en`` and ``mn``.

Maintainers, after changing user-facing text (from the repository root)::

    .venv/bin/pybabel extract -F babel.cfg -o bot/locales/pingan.pot . \\
      && .venv/bin/pybabel update -i bot/locales/pingan.pot -d bot/locales -D pingan

then fill in the new (and ``#, fuzzy``) entries of every ``pingan.po`` and run
``pytest tests/test_i18n.py``, which fails while a string is untranslated. A new language::

    .venv/bin/pybabel init -i bot/locales/pingan.pot -d bot/locales -D pingan -l <code>

and add its own name to ``LANGUAGE_NAMES``.
"""

from __future__ import annotations

import ast
import gettext
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import IO, Any, cast

import yaml
from babel.messages import extract as babel_extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "zh_CN"
DOMAIN = "pingan"
LOCALES = Path(__file__).resolve().parent / "locales"

# Each language by its own name, as offered to the user.
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English", "mn": "ᠮᠣᠩᠭᠣᠯ"}

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


def catalog_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_languages() -> list[str]:
    """Codes that have a catalog, zh_CN first, then alphabetical."""
    return list(_available())


@cache
def _available() -> tuple[str, ...]:
    found = sorted(p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return tuple(sorted(found, key=lambda code: code != DEFAULT_LANGUAGE))


def language_name(code: str) -> str:
    """The language's name in that language (中文, English, ᠮᠣᠩᠭᠣᠯ); the code if unknown."""
    return LANGUAGE_NAMES.get(_resolve(code) or code, code)


def _resolve(language: str) -> str | None:
    """The catalog for a code: exact, then ``zh-CN`` → ``zh_CN``, then ``en_US`` → ``en``."""
    available = _available()
    code = language.strip().replace("-", "_")
    for candidate in (language, code, code.split("_", 1)[0]):
        if candidate in available:
            return candidate
    return None


def _load(language: str) -> gettext.GNUTranslations:
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, domain=DOMAIN)
    mo = BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)  # drops fuzzy and empty msgstrs
    mo.seek(0)
    return gettext.GNUTranslations(mo)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The translations for a language code, built once per code from its ``.po`` file."""
    code = _resolve(language)
    if code is None:
        return (
            gettext.NullTranslations()
            if language == DEFAULT_LANGUAGE
            else translations(DEFAULT_LANGUAGE)
        )
    loaded = _load(code)
    if code != DEFAULT_LANGUAGE:
        loaded.add_fallback(translations(DEFAULT_LANGUAGE))
    return loaded


def _(message: str) -> str:
    return translations(current_language.get()).gettext(message)


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Words composed for someone other than the sender (an officer's reply pushed to a
    reporter) in the recipient's language."""
    token = current_language.set(language or DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        current_language.reset(token)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (translate with ``_()`` later)."""
    return message


# -- Extraction helpers for pybabel, named in babel.cfg --------------------------------------

# What an extraction method yields: (lineno, funcname, message(s), comments).
_ExtractResult = tuple[int, str | None, str | list[str], list[str]]
# Babel's own annotation of extract_python names a different tuple than it yields.
_babel_python = cast(Callable[..., Iterable[_ExtractResult]], babel_extract.extract_python)


def extract_python(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[_ExtractResult]:
    """Babel's Python extraction, plus the strings of the module constants named in the
    ``constants`` option (a str, or a dict/list/tuple of them, translated later via ``_(…)``)."""
    source = fileobj.read()
    yield from _babel_python(BytesIO(source), keywords, comment_tags, options)
    names = set(str(options.get("constants", "")).split())
    if not names:
        return
    found: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                found.add(target.id)
                for lineno, text in _constant_strings(value):
                    yield lineno, None, text, [target.id]
    if missing := names - found:
        where = getattr(fileobj, "name", "?")
        raise ValueError(f"babel.cfg names constants not defined in {where}: {sorted(missing)}")


def _constant_strings(node: ast.expr) -> Iterator[tuple[int, str]]:
    if isinstance(node, ast.Dict):
        values: list[ast.expr] = list(node.values)
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        values = list(node.elts)
    else:
        values = [node]
    for value in values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
            yield value.lineno, value.value


def extract_yaml(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[_ExtractResult]:
    """The scalar values under the mapping keys named in the ``keys`` option, anywhere in a
    YAML file (e.g. ``keys = name`` for the tip categories of ``tips.yaml``); the optional
    ``comment`` option is passed on to the translators."""
    keys = set(str(options.get("keys", "")).split())
    comment = str(options.get("comment", "")).strip()
    root = yaml.compose(fileobj.read().decode("utf-8"))
    if root is not None:
        for lineno, funcname, text, _comments in _yaml_strings(root, keys):
            yield lineno, funcname, text, [comment] if comment else []


def _yaml_strings(node: yaml.Node, keys: set[str]) -> Iterator[_ExtractResult]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in keys:
                if isinstance(value, yaml.ScalarNode) and value.value:
                    yield value.start_mark.line + 1, None, str(value.value), []
            else:
                yield from _yaml_strings(value, keys)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _yaml_strings(item, keys)
