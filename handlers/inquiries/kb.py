"""The knowledge base (``kb/*.yaml``): entries and redirects staff edit without touching code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

KB_DIR = Path(__file__).resolve().parent / "kb"


@dataclass(frozen=True)
class Option:
    label: str
    next: str | None
    materials: tuple[str, ...]


@dataclass(frozen=True)
class Node:
    ask: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Checklist:
    """A short decision dialog that ends with the exact materials for the resident's case."""

    start: str
    nodes: dict[str, Node]


@dataclass(frozen=True)
class Entry:
    id: str
    category: str
    questions: tuple[str, ...]
    synonyms: tuple[str, ...]
    answer: str
    detail: str | None
    materials: tuple[str, ...]
    where: str | None
    when: str | None
    fee: str | None
    time_limit: str | None
    online: bool
    one_id: bool
    dialog: Checklist | None

    @property
    def title(self) -> str:
        return self.questions[0]


def _checklist(entry_id: str, raw: dict[str, Any] | None) -> Checklist | None:
    if not raw:
        return None
    nodes = {
        name: Node(
            ask=str(node["ask"]),
            options=tuple(
                Option(
                    label=str(o["label"]),
                    next=o.get("next"),
                    materials=tuple(str(m) for m in o.get("materials") or ()),
                )
                for o in node["options"]
            ),
        )
        for name, node in raw["nodes"].items()
    }
    for name, node in nodes.items():
        for option in node.options:
            if (option.next is None) == (not option.materials):
                msg = f"{entry_id}.{name}: option {option.label!r} needs next xor materials"
                raise ValueError(msg)
            if option.next is not None and option.next not in nodes:
                msg = f"{entry_id}.{name}: option {option.label!r} leads to unknown node"
                raise ValueError(msg)
    if raw["start"] not in nodes:
        msg = f"{entry_id}: dialog start {raw['start']!r} is not a node"
        raise ValueError(msg)
    return Checklist(start=str(raw["start"]), nodes=nodes)


def _entry(raw: dict[str, Any]) -> Entry:
    def texts(key: str) -> tuple[str, ...]:
        return tuple(str(v) for v in raw.get(key) or ())

    def optional(key: str) -> str | None:
        value = raw.get(key)
        return None if value is None else str(value)

    return Entry(
        id=str(raw["id"]),
        category=str(raw["category"]),
        questions=texts("questions"),
        synonyms=texts("synonyms"),
        answer=str(raw["answer"]).strip(),
        detail=optional("detail"),
        materials=texts("materials"),
        where=optional("where"),
        when=optional("when"),
        fee=optional("fee"),
        time_limit=optional("time_limit"),
        online=bool(raw.get("online")),
        one_id=bool(raw.get("one_id")),
        dialog=_checklist(str(raw["id"]), raw.get("dialog")),
    )


@dataclass(frozen=True)
class Redirect:
    """Not police business: the words that name it and where to send the resident instead."""

    id: str
    agency: str
    names: tuple[str, ...]
    words: tuple[str, ...]
    answer: str

    @property
    def title(self) -> str:
        return self.agency


def _redirect(raw: dict[str, Any]) -> Redirect:
    return Redirect(
        id=str(raw["id"]),
        agency=str(raw["agency"]),
        names=tuple(str(n) for n in raw.get("names") or ()),
        words=tuple(str(w) for w in raw.get("words") or ()),
        answer=str(raw["answer"]).strip(),
    )


@dataclass(frozen=True)
class Facet:
    """An intent that cuts across topics (国庆 → hours, 网上 → online services): when one of
    its words is in a question, its entries gain a little over the entries of the topic."""

    id: str
    words: tuple[str, ...]
    entries: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    redirects: tuple[Redirect, ...] = ()
    facets: tuple[Facet, ...] = ()
    #: What questions are about (see facets.yaml): an answer must be about the same.
    subjects: tuple[str, ...] = ()

    def get(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)


@cache
def load_kb(path: Path = KB_DIR) -> KnowledgeBase:
    """Every ``*.yaml`` of the folder, in name order (or one file); ids unique across all."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    entries: list[Entry] = []
    redirects: list[Redirect] = []
    facets: list[Facet] = []
    subjects: list[str] = []
    for file in files:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        entries += [_entry(e) for e in raw.get("entries") or ()]
        redirects += [_redirect(r) for r in raw.get("redirects") or ()]
        facets += [
            Facet(str(f["id"]), tuple(map(str, f["words"])), tuple(map(str, f["entries"])))
            for f in raw.get("facets") or ()
        ]
        subjects += map(str, raw.get("subjects") or ())
    ids = [e.id for e in entries] + [r.id for r in redirects]
    if len(ids) != len(set(ids)):
        msg = f"{path}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}"
        raise ValueError(msg)
    if any(not e.questions for e in entries):
        msg = f"{path}: every entry needs at least one question"
        raise ValueError(msg)
    if any(not r.words for r in redirects):
        msg = f"{path}: every redirect needs words"
        raise ValueError(msg)
    unknown = {i for f in facets for i in f.entries} - {e.id for e in entries}
    if unknown:
        msg = f"{path}: facets name unknown entries {sorted(unknown)}"
        raise ValueError(msg)
    return KnowledgeBase(tuple(entries), tuple(redirects), tuple(facets), tuple(subjects))
