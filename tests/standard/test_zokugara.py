"""続柄 per spec 1.1.11: the allowed words, chains up to 4 世代, refused words and the codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kikan.standard.codes import CodeError, code_table
from kikan.standard.zokugara import (
    DOUKYO,
    ENKO,
    HEAD,
    MAX_GENERATIONS,
    Zokugara,
    ZokugaraError,
    from_code,
    parse_zokugara,
    rank,
    zokugara_or_enko,
)

# Spec 1.1.11 ②, written out independently of the data file.
BASIC = ["夫", "妻", "夫（未届）", "妻（未届）", "子", "子（子の夫）", "子（子の妻）"]
BASIC += ["父", "母", "兄", "姉", "弟", "妹"]
STANDALONE = ["世帯主", "縁故者", "同居人"]

CHAINABLE_CODES = sorted(e.code for e in code_table("zokugara_term").where(chainable=True))
chains = st.lists(st.sampled_from(CHAINABLE_CODES), min_size=1, max_size=MAX_GENERATIONS)


def test_term_table_is_exactly_the_spec_words() -> None:
    table = code_table("zokugara_term")
    assert {e.label for e in table.where(chainable=True)} == set(BASIC)
    assert {e.label for e in table.where(chainable=False)} == set(STANDALONE)


@pytest.mark.parametrize("word", BASIC + STANDALONE)
def test_every_basic_and_standalone_word_parses(word: str) -> None:
    z = parse_zokugara(word)
    assert z.display == word
    assert z.generations == 1
    assert len(z.code) == 2


def test_head_enko_doukyo() -> None:
    assert parse_zokugara("世帯主") == HEAD
    assert HEAD.is_head and HEAD.code == "01"
    assert parse_zokugara("縁故者") == ENKO and ENKO.is_enko
    assert parse_zokugara("同居人") == DOUKYO and DOUKYO.is_doukyo
    assert not parse_zokugara("子").is_head


def test_chain_display_and_code() -> None:
    z = parse_zokugara("妻の子")
    assert z.display == str(z) == "妻の子"
    assert z.code == "1221"
    assert z.generations == 2
    assert z.kinds == ("spouse", "child")


def test_four_generations_is_the_limit() -> None:
    # The spec's own example of ③ is allowed …
    z = parse_zokugara("子の子の子の子")
    assert z.generations == 4
    assert z.code == "21212121"
    # … and its example of "5世代以上" must be 縁故者.
    with pytest.raises(ZokugaraError) as info:
        parse_zokugara("子の子の子の子の子")
    err = info.value
    assert err.code == "zokugara.too_long"
    assert err.item == "続柄"
    assert "縁故者" in err.message
    assert "5世代" in err.message


def test_no_inside_parentheses_is_not_a_joint() -> None:
    z = parse_zokugara("子（子の夫）の子の子の子")
    assert z.generations == 4
    assert z.display == "子（子の夫）の子の子の子"
    with pytest.raises(ZokugaraError, match="5世代"):
        parse_zokugara("子（子の妻）の子（子の夫）の子の子の子")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("夫(未届)", "夫（未届）"),
        ("妻（未届)", "妻（未届）"),
        ("子(子の夫)", "子（子の夫）"),
        ("妻(未届)の子", "妻（未届）の子"),
        (" 妻の 子　", "妻の子"),
    ],
)
def test_parenthesis_widths_and_spaces(text: str, expected: str) -> None:
    assert parse_zokugara(text).display == expected


@pytest.mark.parametrize(
    ("word", "advice"),
    [
        ("祖父", "父の父"),
        ("祖母", "父の母"),
        ("孫", "子の子"),
        ("おじ", "父の兄"),
        ("おば", "父の姉"),
        ("甥", "兄の子"),
        ("姪", "兄の子"),
        ("伯父", "父の兄"),
        ("家事使用人", "同居人"),
        ("準世帯主", "世帯主との続柄"),
        ("長男", "「子」"),
        ("内縁の妻", "妻（未届）"),
    ],
)
def test_forbidden_words_say_what_to_write(word: str, advice: str) -> None:
    with pytest.raises(ZokugaraError) as info:
        parse_zokugara(word)
    err = info.value
    assert err.code == "zokugara.forbidden_term"
    assert err.item == "続柄"
    assert f"「{word}」" in err.message
    assert advice in err.message
    assert "使用しない" in str(err)


def test_forbidden_word_inside_a_chain() -> None:
    with pytest.raises(ZokugaraError) as info:
        parse_zokugara("妻の孫")
    assert info.value.code == "zokugara.forbidden_term"
    assert info.value.message.startswith("続柄「妻の孫」の「孫」は")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "zokugara.empty"),
        ("　", "zokugara.empty"),
        ("友人", "zokugara.unknown_term"),
        ("子の友人", "zokugara.unknown_term"),
        ("夫（未届", "zokugara.unknown_term"),
        ("子の", "zokugara.format"),
        ("の子", "zokugara.format"),
        ("子のの子", "zokugara.format"),
        ("世帯主の子", "zokugara.not_chainable"),
        ("妻の同居人", "zokugara.not_chainable"),
        ("縁故者の子", "zokugara.not_chainable"),
    ],
)
def test_refused_text(text: str, problem: str) -> None:
    with pytest.raises(ZokugaraError) as info:
        parse_zokugara(text)
    assert info.value.code == problem
    assert info.value.item == "続柄"
    assert info.value.message.endswith("。")


def test_head_prefix_gets_a_hint() -> None:
    with pytest.raises(ZokugaraError, match="「子」のように記載"):
        parse_zokugara("世帯主の子")


def test_errors_are_value_and_code_errors() -> None:
    with pytest.raises(ValueError):
        parse_zokugara("孫")
    with pytest.raises(CodeError):
        parse_zokugara("孫")


@given(chains)
def test_round_trip_display_and_code(parts: list[str]) -> None:
    z = Zokugara(tuple(parts))
    assert parse_zokugara(z.display) == z
    assert from_code(z.code) == z
    assert z.generations == len(parts)
    assert len(z.code) == 2 * len(parts)


@given(st.lists(st.sampled_from(CHAINABLE_CODES), min_size=MAX_GENERATIONS + 1, max_size=8))
def test_longer_chains_are_refused_everywhere(parts: list[str]) -> None:
    display = "の".join(code_table("zokugara_term").label(p) for p in parts)
    with pytest.raises(ZokugaraError) as info:
        parse_zokugara(display)
    assert info.value.code == "zokugara.too_long"
    with pytest.raises(ZokugaraError):
        Zokugara(tuple(parts))
    assert zokugara_or_enko(parts) == ENKO


@pytest.mark.parametrize(
    "code", ["", "1", "123", "2121212121", "99", "0121", "2101", "ab", "１２", "21 21"]
)
def test_from_code_refuses_malformed_codes(code: str) -> None:
    with pytest.raises(ZokugaraError) as info:
        from_code(code)
    assert info.value.code in {
        "zokugara.invalid_code",
        "zokugara.not_chainable",
        "zokugara.too_long",
    }


def test_zokugara_or_enko_for_migration() -> None:
    assert zokugara_or_enko(["子", "子"]) == parse_zokugara("子の子")
    assert zokugara_or_enko(["21", "12"]) == parse_zokugara("子の妻")
    assert zokugara_or_enko(["子"] * 5) == ENKO
    assert zokugara_or_enko(["同居人"]) == DOUKYO
    with pytest.raises(ZokugaraError):
        zokugara_or_enko(["子", "孫"])  # a data error stays an error, even in migration
    with pytest.raises(ZokugaraError):
        zokugara_or_enko([])


def key(text: str) -> tuple[object, ...]:
    return rank(parse_zokugara(text))


def test_rank_follows_spec_5_2_order() -> None:
    ordered = [
        "世帯主",  # 1-1
        "妻",  # 1-2
        "子",  # 1-3
        "子の妻",  # 2-2
        "子の子",  # 2-3
        "父",  # 3-1
        "兄",  # 3-2
        "父の母",  # 3-3
        "妻の父",  # 4-1
        "縁故者",  # 4-2
        "同居人",  # 4-3
    ]
    assert sorted(ordered, key=key) == ordered


def test_rank_ties_are_left_to_birth_date() -> None:
    # Within 1-3, 2-3 … the spec orders by 生年月日; the key must not impose an order itself.
    assert key("子") == key("子（子の夫）")
    assert key("兄") == key("妹")
    assert key("夫（未届）") == key("妻")
    # 4-1 follows 第3順位 (父母 before 兄弟姉妹) for the spouse's side.
    assert key("妻の父") < key("妻の兄")
