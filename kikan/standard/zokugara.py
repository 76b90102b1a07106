"""続柄 (relationship to the household head), 住民記録システム標準仕様書 第3章 1.1.11 (110).

The spec allows exactly five forms:

① 世帯主
② 夫, 妻, 夫（未届）, 妻（未届）, 子, 子（子の夫）, 子（子の妻）, 父, 母, 兄, 姉, 弟, 妹
③ words of ② joined by 「の」 up to 4 世代 (e.g. 子の子の子の子)
④ 縁故者
⑤ 同居人

"世代" is defined as the mechanical count of the words joined by 「の」, so 子の子の子の子 (four
words, three 「の」) is the longest chain and 子の子の子の子の子 must be recorded as 縁故者. The
「の」 inside 子（子の夫） / 子（子の妻） is part of the word, not a joint. Other words (祖父, 孫,
おじ, 甥 …) are 【実装しない】: they are refused with a message saying how to write them as a chain.

Why a value type instead of free text: other systems receive the relationship as a code, the
記載順位 depends on its structure, and free text drifts (孫 / 子の子 / 子ノ子). The words and their
two-digit codes are data (``data/codes/zokugara_term.toml``); this module only knows the grammar.

Storage code: the words' two-digit codes concatenated, 2 to 8 digits (妻の子 = ``"1221"``,
世帯主 = ``"01"``, 子の子の子の子 = ``"21212121"``). It is unambiguous because every word code
has exactly two digits, and it sorts the same way for the same chain.

Errors are :class:`ZokugaraError` (a :class:`~kikan.standard.codes.CodeError`, so a ValueError)
with ``item = "続柄"``. Codes: ``zokugara.format``, ``zokugara.empty``, ``zokugara.unknown_term``,
``zokugara.forbidden_term``, ``zokugara.not_chainable``, ``zokugara.too_long``,
``zokugara.invalid_code``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from kikan.standard.codes import CodeError, CodeTable, code_table

__all__ = [
    "DOUKYO",
    "ENKO",
    "HEAD",
    "ITEM",
    "MAX_GENERATIONS",
    "Zokugara",
    "ZokugaraError",
    "from_code",
    "parse_zokugara",
    "rank",
    "zokugara_or_enko",
]

ITEM = "続柄"
MAX_GENERATIONS = 4
_JOINT = "の"
_HEAD_CODE = "01"
_ENKO_CODE = "91"
_DOUKYO_CODE = "92"
_CODE_TEXT = re.compile(r"(?:[0-9]{2}){1,4}")
# Typed or migrated text uses either width of parentheses and stray spaces; none of the words
# contains a space, so removing all whitespace loses nothing.
_NORMALISE = str.maketrans({"(": "（", ")": "）", " ": None, "\u3000": None, "\t": None})

# Words the spec refuses (1.1.11 【実装しない機能】 and common variants), with how to write them.
# Kept in code rather than data because they are guidance text, not codes anyone stores.
_FORBIDDEN: Mapping[str, str] = MappingProxyType(
    {
        "孫": "「子の子」のように記載してください。",
        "曾孫": "「子の子の子」のように記載してください。",
        "曽孫": "「子の子の子」のように記載してください。",
        "ひ孫": "「子の子の子」のように記載してください。",
        "祖父": "「父の父」又は「母の父」のように記載してください。",
        "祖母": "「父の母」又は「母の母」のように記載してください。",
        "曾祖父": "「父の父の父」などのように記載してください。",
        "曽祖父": "「父の父の父」などのように記載してください。",
        "曾祖母": "「父の父の母」などのように記載してください。",
        "曽祖母": "「父の父の母」などのように記載してください。",
        "おじ": "「父の兄」「母の弟」などのように記載してください。",
        "伯父": "「父の兄」又は「母の兄」のように記載してください。",
        "叔父": "「父の弟」又は「母の弟」のように記載してください。",
        "おば": "「父の姉」「母の妹」などのように記載してください。",
        "伯母": "「父の姉」又は「母の姉」のように記載してください。",
        "叔母": "「父の妹」又は「母の妹」のように記載してください。",
        "甥": "「兄の子」「妹の子」などのように記載してください。",
        "姪": "「兄の子」「妹の子」などのように記載してください。",
        "いとこ": "「父の兄の子」などのように記載してください。",
        "義父": "「妻の父」又は「夫の父」のように記載してください。",
        "義母": "「妻の母」又は「夫の母」のように記載してください。",
        "義兄": "「妻の兄」「姉の夫」などのように記載してください。",
        "義姉": "「妻の姉」「兄の妻」などのように記載してください。",
        "義弟": "「妻の弟」「妹の夫」などのように記載してください。",
        "義妹": "「妻の妹」「弟の妻」などのように記載してください。",
        "嫁": "「子の妻」のように記載してください。",
        "婿": "「子の夫」（養子縁組をしている場合は「子（子の夫）」）のように記載してください。",
        "長男": "「子」のように記載してください。",
        "長女": "「子」のように記載してください。",
        "次男": "「子」のように記載してください。",
        "二男": "「子」のように記載してください。",
        "次女": "「子」のように記載してください。",
        "二女": "「子」のように記載してください。",
        "三男": "「子」のように記載してください。",
        "三女": "「子」のように記載してください。",
        "養子": "「子」のように記載してください。",
        "養女": "「子」のように記載してください。",
        "養父": "「父」のように記載してください。",
        "養母": "「母」のように記載してください。",
        "兄弟": "「兄」又は「弟」のように記載してください。",
        "姉妹": "「姉」又は「妹」のように記載してください。",
        "配偶者": "「夫」又は「妻」のように記載してください。",
        "内縁の夫": "「夫（未届）」のように記載してください。",
        "内縁の妻": "「妻（未届）」のように記載してください。",
        "家事使用人": "親族でなければ「同居人」としてください。",
        "準世帯主": "世帯主以外の世帯員は世帯主との続柄を記載してください。",
    }
)


class ZokugaraError(CodeError):
    """A 続柄 the spec does not allow. ``item`` is always 続柄; ``str(e)`` is the message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, ITEM)

    def __repr__(self) -> str:
        return f"ZokugaraError(code={self.code!r}, message={self.message!r})"


def _terms() -> CodeTable:
    return code_table("zokugara_term")


@cache
def _standalone_codes() -> frozenset[str]:
    return frozenset(e.code for e in _terms().where(chainable=False))


@dataclass(frozen=True, slots=True)
class Zokugara:
    """A validated 続柄: ``parts`` are word codes of the ``zokugara_term`` table.

    Either a single standalone word (世帯主 / 縁故者 / 同居人) or 1 to 4 chainable words. Build
    it with :func:`parse_zokugara` (from text) or :func:`from_code` (from storage); the
    constructor validates too, so an invalid value cannot exist.
    """

    parts: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.parts, tuple) or not self.parts:
            raise ZokugaraError("zokugara.empty", "続柄が指定されていません。")
        terms = _terms()
        for part in self.parts:
            if not terms.has(part):
                raise ZokugaraError(
                    "zokugara.invalid_code", f"続柄の語コード「{part}」はありません。"
                )
        if len(self.parts) > 1 and any(p in _standalone_codes() for p in self.parts):
            raise ZokugaraError("zokugara.not_chainable", _NOT_CHAINABLE)
        if len(self.parts) > MAX_GENERATIONS:
            raise ZokugaraError(
                "zokugara.too_long", _too_long_message(self.display, len(self.parts))
            )

    @property
    def display(self) -> str:
        """The text written on the 住民票, e.g. 妻の子."""
        terms = _terms()
        return _JOINT.join(terms.label(p) for p in self.parts)

    @property
    def code(self) -> str:
        """Storage / linkage code: the two-digit word codes concatenated (妻の子 → "1221")."""
        return "".join(self.parts)

    @property
    def generations(self) -> int:
        """The spec's 世代: the number of words joined by 「の」 (1 for 世帯主, 縁故者, 同居人)."""
        return len(self.parts)

    @property
    def is_head(self) -> bool:
        return self.parts == (_HEAD_CODE,)

    @property
    def is_enko(self) -> bool:
        return self.parts == (_ENKO_CODE,)

    @property
    def is_doukyo(self) -> bool:
        return self.parts == (_DOUKYO_CODE,)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The ``kind`` attribute of each word (head, spouse, child, parent, sibling …)."""
        terms = _terms()
        return tuple(str(terms.entry(p).attr("kind")) for p in self.parts)

    def __str__(self) -> str:
        return self.display


HEAD = Zokugara((_HEAD_CODE,))
ENKO = Zokugara((_ENKO_CODE,))
DOUKYO = Zokugara((_DOUKYO_CODE,))

_NOT_CHAINABLE = "「世帯主」「縁故者」「同居人」は「の」でつなげられません。"


def _too_long_message(display: str, generations: int) -> str:
    return (
        f"続柄「{display}」は{generations}世代です。"
        f"「の」でつなげられるのは{MAX_GENERATIONS}世代までのため、「縁故者」としてください。"
    )


def _split_chain(text: str) -> list[str]:
    """Split at every 「の」 outside parentheses (子（子の夫） is one word)."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "（":
            depth += 1
        elif char == "）":
            depth = max(depth - 1, 0)
        if char == _JOINT and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _forbidden_error(word: str, text: str) -> ZokugaraError:
    where = f"続柄「{text}」の「{word}」" if word != text else f"続柄「{word}」"
    return ZokugaraError(
        "zokugara.forbidden_term",
        f"{where}は標準仕様で使用しない続柄です。{_FORBIDDEN[word]}",
    )


def _word_code(word: str, text: str) -> str:
    """The code of one chain word, or the most helpful error for it."""
    terms = _terms()
    if word == "":
        raise ZokugaraError(
            "zokugara.format", f"続柄「{text}」の「の」の前後に続柄の語がありません。"
        )
    if word in _FORBIDDEN:
        raise _forbidden_error(word, text)
    try:
        code = terms.by_label(word)
    except CodeError:
        where = f"続柄「{text}」の「{word}」" if word != text else f"続柄「{word}」"
        raise ZokugaraError(
            "zokugara.unknown_term", f"{where}は使用できる続柄ではありません。"
        ) from None
    if code in _standalone_codes():
        raise ZokugaraError("zokugara.not_chainable", _NOT_CHAINABLE)
    return code


def _words_to_codes(words: Iterable[str], text: str) -> tuple[str, ...]:
    return tuple(_word_code(word, text) for word in words)


def parse_zokugara(text: str) -> Zokugara:
    """Parse 続柄 text as typed or migrated (妻の子, 夫(未届), 子（子の妻）の子 …).

    Half-width parentheses and spaces are tolerated; every other deviation is refused with a
    Japanese message that says what to write instead, because a wrong 続柄 ends up on
    certificates and in every other system's 宛名.
    """
    if not isinstance(text, str):
        raise ZokugaraError("zokugara.format", "続柄は文字列で指定してください。")
    normalised = text.translate(_NORMALISE)
    if normalised == "":
        raise ZokugaraError("zokugara.empty", "続柄が入力されていません。")
    terms = _terms()
    if normalised in _FORBIDDEN:
        raise _forbidden_error(normalised, normalised)
    if terms.has_label(normalised):
        code = terms.by_label(normalised)
        if code in _standalone_codes():
            return Zokugara((code,))
    head_label = terms.label(_HEAD_CODE) + _JOINT
    if normalised.startswith(head_label) and len(normalised) > len(head_label):
        rest = normalised.removeprefix(head_label)
        raise ZokugaraError(
            "zokugara.not_chainable",
            f"{_NOT_CHAINABLE}続柄は世帯主から見た関係なので「{rest}」のように記載してください。",
        )
    codes = _words_to_codes(_split_chain(normalised), normalised)
    if len(codes) > MAX_GENERATIONS:
        raise ZokugaraError("zokugara.too_long", _too_long_message(normalised, len(codes)))
    return Zokugara(codes)


def from_code(code: str) -> Zokugara:
    """The 続柄 stored as ``code`` (see the module docstring); refuses malformed codes."""
    if not isinstance(code, str) or not _CODE_TEXT.fullmatch(code):
        shown = code if isinstance(code, str) else type(code).__name__
        raise ZokugaraError(
            "zokugara.invalid_code",
            f"続柄コード「{shown}」は正しくありません（2桁の語コードを1〜{MAX_GENERATIONS}個）。",
        )
    return Zokugara(tuple(code[i : i + 2] for i in range(0, len(code), 2)))


def zokugara_or_enko(parts: Iterable[str]) -> Zokugara:
    """Migration helper: the chain of ``parts`` (words such as 子, or word codes), or 縁故者.

    Legacy systems sometimes hold chains longer than 4 世代; the spec says those people are
    縁故者, so this helper maps them there instead of refusing. Everything else (unknown or
    forbidden words) is still refused: a silent 縁故者 would hide a data error. Interactive
    input should use :func:`parse_zokugara`, which refuses long chains with an explanation.
    """
    terms = _terms()
    words = [terms.label(p) if terms.has(p) else p for p in parts]
    text = _JOINT.join(words)
    if len(words) == 1 and terms.has_label(words[0]):
        code = terms.by_label(words[0])
        if code in _standalone_codes():
            return Zokugara((code,))
    codes = _words_to_codes(words, text)
    if len(codes) > MAX_GENERATIONS:
        return ENKO
    return Zokugara(codes)


def rank(zokugara: Zokugara) -> tuple[int, int, int, tuple[str, ...]]:
    """Sort key for the 世帯員の並び順 of spec 5.2, as far as a single 続柄 determines it.

    ``(順位, 順位内の区分, 世代, word codes)``:

    * 1-1 世帯主, 1-2 配偶者 (夫・妻, including （未届）), 1-3 世帯主の子
    * 2-2 世帯主の子の配偶者, 2-3 the rest of a child's family (子の子, 子の夫の子 …)
    * 3-1 父母, 3-2 兄弟姉妹, 3-3 祖父母 (父の父, 母の母 …)
    * 4-1 other relatives (配偶者側の父母 … ; word codes then order them like 第3順位),
      4-2 縁故者, 4-3 同居人

    What the key cannot know: spec 5.2 moves a 世帯主の子 who has a family in the household
    into 第2順位 and groups each family behind its child, and it breaks ties by 生年月日 and
    宛名番号 (父母: 筆頭者 first). Callers append those facts, e.g.
    ``(rank(z), birth_key, atena_number)``, and group families themselves.
    """
    kinds = zokugara.kinds
    first, rest = kinds[0], kinds[1:]
    if zokugara.is_head:
        key = (1, 1)
    elif zokugara.is_enko:
        key = (4, 2)
    elif zokugara.is_doukyo:
        key = (4, 3)
    elif not rest:
        key = {"spouse": (1, 2), "child": (1, 3), "parent": (3, 1), "sibling": (3, 2)}[first]
    elif first == "child" and all(k in {"child", "spouse"} for k in rest):
        key = (2, 2) if rest == ("spouse",) else (2, 3)
    elif kinds == ("parent", "parent"):
        key = (3, 3)
    else:
        return (4, 1, zokugara.generations, zokugara.parts)
    return (*key, zokugara.generations, ())
