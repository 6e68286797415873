"""Turning the way residents write into the words the knowledge base uses.

Residents type colloquially, in dialect, with homophone typos and sometimes in traditional
characters. A question is converted (OpenCC traditional→simplified, NFKC), known typos and
dialect words are replaced by standard ones, fillers and punctuation removed; then
``Speller`` fixes homophone typos (户及室, 护找, 居主证) against the knowledge base's own words
by toneless pinyin.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, reduce
from operator import add, or_
from typing import cast

import jieba
import opencc
from pypinyin import lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict

from handlers.inquiries.segment import cut_for_search

# Homophone and look-alike typos residents make; applied after traditional→simplified.
TYPOS = {
    "身分证": "身份证",
    "户囗": "户口",
    "戸口": "户口",
    "身份正": "身份证",
    "居往证": "居住证",
    "暂往": "暂住",
    "户籍证": "户口",
    "户口薄": "户口簿",
    "犯罪纪录": "犯罪记录",
    "过逝": "过世",
    "架驶证": "驾驶证",
    "驾使证": "驾驶证",
    "上斑": "上班",
}

# Dialect and colloquial words → the standard words the entries are written in. Regexes,
# applied in order, on the text with its punctuation still in place.
DIALECT: tuple[tuple[str, str], ...] = (
    (r"唔见咗|唔见了|整丢了|弄丢了|搞丢了|整没了|弄没了|掉了|丢失了", "丢了"),
    (r"找不着|寻不着", "找不到"),
    (r"咋个整|咋个办|咋整|咋办|咋弄|咋搞|咋个弄|怎么整|怎么弄|怎么搞|点算|点办", "怎么办"),
    (r"咋个|咋样|咋", "怎么"),
    (r"搁哪儿?|在哪儿|在哪嘞|哪嘞|哪搭|在哪噶", "在哪"),
    (r"啥子|啥|么子|嘛子", "什么"),
    (r"嘎哈|干啥|干哈|做啥|干嘛", "做什么"),
    (r"娃儿|娃子|娃娃|娃|细路|崽崽", "孩子"),
    (r"屋头|屋里", "家里"),
    (r"老汉|老爷子|老太太", "老人"),
    (r"俺爹|俺娘|老爹|爹", "父亲"),
    (r"电驴子|电驴|电瓶车|电摩|电单车", "电动车"),
    (r"多老长时间|多长时间|多长时候|多少天|几天能", "多久"),
    # One word for "online", so it is not drowned by 手机 (捡到手机) or by the topic word.
    (r"在手机上|用手机|手机上|线上|掌上|网络上|网上面", "网上"),
    (r"(父亲|母亲|老人|爷爷|奶奶|外公|外婆|老伴)(?:没了|走了|不在了|过世了)", r"\1去世"),
    (r"中不中|行不行|好不好|成不成|可不可以|能不能|是不是|要不要|用不用|有没有", ""),
    (r"(?<=[\u4e00-\u9fff])不(?=[\s，。？！?!,.]|$)", ""),  # 上班不？ → 上班？
)
_NUMERAL = re.compile(r"([一二两三四五六七八九十]{1,3})(?=周?岁)")
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
_DIALECT = tuple((re.compile(pattern), repl) for pattern, repl in DIALECT)
# Most questions have none of these words: one search saves trying the patterns one by one.
_ANY_DIALECT = re.compile("|".join(f"(?:{pattern})" for pattern, _ in DIALECT))

FILLERS = re.compile(
    r"请问|你好|您好|侬好|你们好|我想问一下|我想问|想问一下|想问|问一下|咨询一下|麻烦|谢谢"
    r"|一下|那个|这个|俺们|俺|恁|咱们|咱|嗯|呃|哎|唉|嘞|咧|噻|嘛|呗|哈|哦|喽|啦|呀|哇"
)
PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "啊",
        "吧",
        "么",
        "我",
        "你",
        "他",
        "她",
        "是",
        "在",
        "有",
        "和",
        "要",
        "去",
        "想",
        "能",
        "会",
        "可以",
        "怎么",
        "怎样",
        "如何",
        "什么",
        "哪",
        "哪里",
        "办",
        "办理",
        "一个",
        "需要",
        "应该",
        "还",
        "就",
        "都",
        "也",
        "给",
        "到",
        "把",
        "被",
        "让",
        "个",
        "得",
        "先",
        "现在",
        "这边",
        "那边",
        "我们",
        "你们",
        "他们",
        "家",
        "怎么办",
        "多少",
        "下",
        "上",
        "不",
        "说",
        "弄",
        "东西",
        "请",
        "帮",
        "帮忙",
        "时候",
        "什么时候",
        "今天",
        "明天",
        "找谁",
        "谁",
        "做",
        "做什么",
    ]
)


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Simplified, lower-case, typos and dialect replaced, no fillers or punctuation."""
    text = unicodedata.normalize("NFKC", _t2s().convert(text)).lower()
    for wrong, right in TYPOS.items():
        text = text.replace(wrong, right)
    if _ANY_DIALECT.search(text):
        for pattern, repl in _DIALECT:
            text = pattern.sub(repl, text)
    text = _NUMERAL.sub(lambda m: str(_number(m[1])), text)  # 十六岁 → 16岁, like the entries
    return PUNCTUATION.sub("", FILLERS.sub("", text))


def _number(numeral: str) -> int:
    """十六 → 16, 二十 → 20, 八 → 8 (up to 九十九)."""
    tens, _, ones = numeral.rpartition("十")
    if "十" not in numeral:
        return _DIGITS.get(numeral[-1], 0)
    return _DIGITS.get(tens, 1) * 10 + _DIGITS.get(ones, 0)


def tokens(text: str) -> list[str]:
    return [t for t in cut_for_search(text) if t.strip() and t not in STOPWORDS]


#: Words asking about an attribute every entry answers (its fee, materials, time): they count
#: this much of their rarity, so 多少钱 does not pull 办身份证多少钱 to the one entry that
#: happens to say 多少钱 in a question.
ATTRIBUTE_WORDS = frozenset(
    [
        "多少钱",
        "钱",
        "收费",
        "费用",
        "要钱",
        "材料",
        "手续",
        "条件",
        "证件",
        "多久",
        "拿到",
        "时间",
        "工作日",
        "流程",
        "步骤",
    ]
)
ATTRIBUTE_WEIGHT = 0.3


@cache  # one entry per Han character at most; the speller asks for the same ones all the time
def _readings(char: str) -> tuple[str, ...]:
    """Every toneless pinyin reading of one character (itself when it has none)."""
    raw = pinyin_dict.get(ord(char))
    if raw is None:
        return (char,)
    return tuple(sorted({_toneless(r) for r in raw.split(",")}))


def _toneless(reading: str) -> str:
    return unicodedata.normalize("NFKD", reading).encode("ascii", "ignore").decode()


#: Characters residents type on purpose in every question (能办 is not a typo of 能班).
FUNCTION_CHARS = frozenset(
    "办的了吗呢是在有要去能会可以怎么什么哪里个还就都也给到把被让得先这那们多少请"
    "我你他她和不没上下"
)

#: A query word this common is a real word, not a typo; left alone.
COMMON_WORD = 100
#: At most this many pairs of characters keep their readings' openings cached, and at most
#: this many runs their fix.
PAIRS_CACHED = RUNS_CACHED = 50_000


class Speller:
    """Fixes homophone typos against a vocabulary: 户及室 → 户籍室 when 户籍 is a KB word.

    A run of 2–4 characters that is not a known word is replaced by the vocabulary word that
    sounds the same (toneless pinyin) and shares a character with it; ambiguous sounds are
    left alone.
    """

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.words = {w for w in vocabulary if 2 <= len(w) <= 4 and _is_han(w)}
        by_sound: dict[tuple[str, ...], set[str]] = {}
        for word in self.words:
            sound = tuple(_toneless(r) for r in lazy_pinyin(word, v_to_u=True))
            by_sound.setdefault(sound, set()).add(word)
        self._by_sound = by_sound
        # How the vocabulary's sounds begin: a run's readings are only followed while some
        # word still sounds like them, instead of trying every combination of readings.
        self._beginnings = {s[:n] for s in by_sound for n in range(1, len(s) + 1)}
        # How the sounds open: first syllable → second syllable → the lengths (bit n for n
        # syllables) of the words whose sound opens so. Most runs of a question open with no
        # such pair, and are passed over without a search.
        self._openings: dict[str, dict[str, int]] = {}
        for sound in by_sound:
            row = self._openings.setdefault(sound[0], {})
            row[sound[1]] = row.get(sound[1], 0) | 1 << len(sound)
        self._pair_sizes: dict[str, int] = {}
        self._fixes: dict[str, str | None] = {}

    def _sounds_like(self, run: str) -> str | None:
        sounds: list[tuple[str, ...]] = [()]
        for char in run:
            longer = ((*s, r) for s in sounds for r in _readings(char))
            sounds = [s for s in longer if s in self._beginnings]
            if not sounds:
                return None
        found: set[str] = set()
        for sound in sounds:
            found.update(self._by_sound.get(sound, ()))
        found = {
            w
            for w in found
            if w != run
            and set(w) & set(run)
            and not any(a != b and a in FUNCTION_CHARS for a, b in zip(run, w, strict=True))
        }
        return found.pop() if len(found) == 1 else None

    def correct(self, text: str) -> str:
        starts = self._starts(text)
        for size in (4, 3, 2):
            if not reduce(or_, starts, 0) >> size & 1:
                continue  # no run of this size sounds like the start of a word
            i = 0
            while i + size <= len(text):
                # A run no word sounds like is passed over without a search.
                if starts[i] >> size & 1 and (word := self._fix(text[i : i + size])):
                    text = text[:i] + word + text[i + size :]
                    starts = self._starts(text)
                    i += size
                else:
                    i += 1
        return text

    def _fix(self, run: str) -> str | None:
        """The word ``run`` is a typo of, if any; cached, as the same runs keep coming."""
        if run in self._fixes:
            return self._fixes[run]
        word = None
        jieba.dt.check_initialized()  # what is cached must not be read from an empty FREQ
        # A run is all Han, and a fix (a word as long as the run) keeps it so.
        if _is_han(run) and run not in self.words and jieba.dt.FREQ.get(run, 0) < COMMON_WORD:
            word = self._sounds_like(run)
        if len(self._fixes) >= RUNS_CACHED:
            self._fixes.clear()
        self._fixes[run] = word
        return word

    def _starts(self, text: str) -> list[int]:
        """For each position, the lengths (bit n for n) of the vocabulary words whose first
        two syllables its character and the next can be read as (none past a non-Han
        character)."""
        pairs = list(map(add, text, text[1:]))
        cached = list(map(self._pair_sizes.get, pairs))  # the same pairs keep coming
        if None not in cached:
            return cast(list[int], cached)
        return [
            self._opening(pair) if s is None else s for s, pair in zip(cached, pairs, strict=True)
        ]

    def _opening(self, pair: str) -> int:
        if len(self._pair_sizes) >= PAIRS_CACHED:
            self._pair_sizes.clear()  # a crude bound on memory: rarely, if ever, reached
        sizes = 0
        first, second = (_readings(c) if "\u4e00" <= c <= "\u9fff" else () for c in pair)
        for reading in first:
            row = self._openings.get(reading)
            if row:
                for following in second:
                    sizes |= row.get(following, 0)
        self._pair_sizes[pair] = sizes
        return sizes


def _is_han(text: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" for c in text)


_LETTERS = re.compile(r"[a-z]{2,}")


def is_question(text: str) -> bool:
    """Whether ``text`` could be a question: at least two different letters of a script
    people write words in (Han, Mongolian, Tibetan…), or two Latin words; not "asdfgh",
    "。。。", a lone emoji or "啊啊啊"."""
    plain = PUNCTUATION.sub("", unicodedata.normalize("NFKC", text).lower())
    letters = {c for c in plain if c.isalpha() and not c.isascii()}
    if len(letters) >= 2:
        return True
    return len(_LETTERS.findall(unicodedata.normalize("NFKC", text).lower())) >= 2
