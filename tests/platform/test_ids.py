"""Tests for kikan.platform.ids: verified vectors, hand-computed vectors and properties.

The property tests state what a modulus-11 check digit with "remainder 0 and 1 both give 0"
really guarantees: every single-digit substitution (and every adjacent transposition of distinct
digits, since adjacent weights always differ) changes the remainder r, because 11 is prime and
neither the weight difference nor the digit difference is a multiple of 11. It is *detected*
unless the remainder moves between 0 and 1, the two values that share check digit 0.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kikan.platform import ids
from kikan.platform.ids import (
    IdentifierError,
    atena_check_digit,
    is_valid_atena_number,
    is_valid_juminhyo_code,
    is_valid_local_government_code,
    is_valid_my_number,
    juminhyo_code_check_digit,
    local_government_code_check_digit,
    make_atena_number,
    my_number_check_digit,
    validate_atena_number,
    validate_juminhyo_code,
    validate_local_government_code,
    validate_my_number,
)

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

# --- an independent oracle: the formulas of DOMAIN.md §5, written out again plainly -----------


def my_number_remainder(body: str) -> int:
    total = 0
    for n in range(1, len(body) + 1):
        p = int(body[-n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    return total % 11


def atena_remainder(body: str) -> int:
    weights = [2, 3, 4, 5, 6, 7]
    return sum(int(body[-n]) * weights[(n - 1) % 6] for n in range(1, len(body) + 1)) % 11


def lg_remainder(body: str) -> int:
    return sum(int(d) * w for d, w in zip(body, [6, 5, 4, 3, 2], strict=True)) % 11


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


# --- 個人番号 ----------------------------------------------------------------------------------


def test_my_number_verified_vector() -> None:
    assert my_number_check_digit("98320567321") == 4
    assert validate_my_number("983205673214") == "983205673214"
    assert is_valid_my_number("983205673214")


def test_my_number_hand_computed_vector() -> None:
    # 12345678901: from the right 1,0,9,8,7,6 × 2..7 = 2+0+36+40+42+42 = 162;
    # then 5,4,3,2,1 × 2..6 = 10+12+12+10+6 = 50; 212 mod 11 = 3 → 11 − 3 = 8.
    assert my_number_check_digit("12345678901") == 8
    # All zeros: r = 0 → 0. 00000000005: 5 × 2 = 10, r = 10 → 1.
    # 00000000006: 6 × 2 = 12, r = 1 → 0 (11 − 1 = 10 is not a digit).
    assert my_number_check_digit("00000000000") == 0
    assert my_number_check_digit("00000000005") == 1
    assert my_number_check_digit("00000000006") == 0


def test_my_number_wrong_check_digit() -> None:
    with pytest.raises(IdentifierError) as info:
        validate_my_number("983205673215")
    err = info.value
    assert err.code == "mynumber.check_digit"
    assert err.item == "個人番号"
    assert str(err) == err.message == "個人番号の検査数字が正しくありません。"
    assert isinstance(err, ValueError)
    assert not is_valid_my_number("983205673215")


def test_my_number_full_width_is_normalised() -> None:
    assert validate_my_number("983205673214".translate(FULLWIDTH)) == "983205673214"
    assert validate_my_number("９８３２０５67３２１４") == "983205673214"  # mixed widths
    assert my_number_check_digit("98320567321".translate(FULLWIDTH)) == 4


@pytest.mark.parametrize(
    "value",
    [
        "9832-0567-3214",
        " 983205673214",
        "983205673214\n",
        "98320567321a",
        "٩٨٣٢٠٥٦٧٣٢١٤",  # Arabic-Indic digits: isdigit() is True, but they are not accepted
        "98320567321４".replace("４", "⁴"),  # superscript four
    ],
)
def test_my_number_non_digits_rejected(value: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_my_number(value)
    assert info.value.code == "mynumber.format"
    assert "数字以外" in info.value.message
    assert not is_valid_my_number(value)


@pytest.mark.parametrize("value", ["", "98320567321", "9832056732140", "1" * 30])
def test_my_number_wrong_length(value: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_my_number(value)
    assert info.value.code == "mynumber.length"
    assert f"入力は{len(value)}桁" in info.value.message
    assert not is_valid_my_number(value)


def test_my_number_error_never_contains_the_number() -> None:
    candidates = ["983205673215", "9832056732140", "98320567321x", "98320567321"]
    for value in candidates:
        with pytest.raises(IdentifierError) as info:
            validate_my_number(value)
        text = f"{info.value} {info.value!r} {info.value.args}"
        assert value not in text
        assert "98320567" not in text


def test_non_string_rejected() -> None:
    with pytest.raises(IdentifierError) as info:
        validate_my_number(983205673214)  # type: ignore[arg-type]
    assert info.value.code == "mynumber.format"
    assert not is_valid_my_number(None)  # type: ignore[arg-type]


def test_identifier_error_pickles() -> None:
    err = IdentifierError(
        "mynumber.check_digit", "個人番号", "個人番号の検査数字が正しくありません。"
    )
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.code, copy.item, copy.message) == (err.code, err.item, err.message)


@given(digits(11))
def test_my_number_any_body_with_computed_check_validates(body: str) -> None:
    number = body + str(my_number_check_digit(body))
    assert validate_my_number(number) == number
    assert validate_my_number(number.translate(FULLWIDTH)) == number
    r = my_number_remainder(body)
    assert my_number_check_digit(body) == (0 if r <= 1 else 11 - r)


def _assert_substitution_property(
    body: str,
    position: int,
    new_digit: str,
    check: Callable[[str], int],
    remainder: Callable[[str], int],
    validate: Callable[[str], str],
) -> None:
    if body[position] == new_digit:
        return
    mutated = body[:position] + new_digit + body[position + 1 :]
    r_old, r_new = remainder(body), remainder(mutated)
    assert r_old != r_new  # every substitution in the body moves the remainder
    undetectable = {r_old, r_new} == {0, 1}
    number = body + str(check(body))
    wrong = mutated + number[-1]
    if undetectable:
        assert validate(wrong) == wrong
    else:
        with pytest.raises(IdentifierError):
            validate(wrong)


@given(digits(11), st.integers(0, 10), st.sampled_from("0123456789"))
def test_my_number_single_substitution(body: str, position: int, new_digit: str) -> None:
    _assert_substitution_property(
        body, position, new_digit, my_number_check_digit, my_number_remainder, validate_my_number
    )


@given(digits(11), st.sampled_from("0123456789"))
def test_my_number_check_digit_substitution_always_detected(body: str, new: str) -> None:
    number = body + str(my_number_check_digit(body))
    if new != number[-1]:
        assert not is_valid_my_number(number[:-1] + new)


def _adjacent_transposition_property(
    body: str, position: int, remainder: Callable[[str], int], check: Callable[[str], int]
) -> None:
    a, b = body[position], body[position + 1]
    if a == b:
        return
    swapped = body[:position] + b + a + body[position + 2 :]
    r_old, r_new = remainder(body), remainder(swapped)
    assert r_old != r_new  # adjacent weights always differ, so r always moves
    if {r_old, r_new} != {0, 1}:
        assert check(swapped) != check(body)


@given(digits(11), st.integers(0, 9))
def test_my_number_adjacent_transposition(body: str, position: int) -> None:
    _adjacent_transposition_property(body, position, my_number_remainder, my_number_check_digit)


def test_my_number_undetectable_case_exists() -> None:
    # Documented weakness of the 0/1 → 0 rule: 00000000006 has r = 1, 00000000000 has r = 0,
    # both check digit 0, and they differ in one digit.
    assert is_valid_my_number("000000000060")
    assert is_valid_my_number("000000000000")


# --- 住民票コード ------------------------------------------------------------------------------


def test_juminhyo_code_hand_computed_vector() -> None:
    # 1234567890: from the right 0,9,8,7,6,5 × 2..7 = 0+27+32+35+36+35 = 165;
    # then 4,3,2,1 × 2..5 = 8+9+8+5 = 30; 195 mod 11 = 8 → 3.
    assert juminhyo_code_check_digit("1234567890") == 3
    assert validate_juminhyo_code("12345678903") == "12345678903"
    assert validate_juminhyo_code("１２３４５６７８９０３") == "12345678903"
    assert not is_valid_juminhyo_code("12345678904")


def test_juminhyo_code_errors() -> None:
    for value, code in [
        ("12345678904", "juminhyo_code.check_digit"),
        ("1234567890", "juminhyo_code.length"),
        ("123456789O3", "juminhyo_code.format"),
    ]:
        with pytest.raises(IdentifierError) as info:
            validate_juminhyo_code(value)
        assert info.value.code == code
        assert info.value.item == "住民票コード"
        assert info.value.message.startswith("住民票コード")


@given(digits(10))
def test_juminhyo_code_any_body_validates(body: str) -> None:
    code = body + str(juminhyo_code_check_digit(body))
    assert validate_juminhyo_code(code) == code
    r = my_number_remainder(body)
    assert juminhyo_code_check_digit(body) == (0 if r <= 1 else 11 - r)


@given(digits(10), st.integers(0, 9), st.sampled_from("0123456789"))
def test_juminhyo_code_single_substitution(body: str, position: int, new_digit: str) -> None:
    _assert_substitution_property(
        body,
        position,
        new_digit,
        juminhyo_code_check_digit,
        my_number_remainder,
        validate_juminhyo_code,
    )


@given(digits(10), st.integers(0, 8))
def test_juminhyo_code_adjacent_transposition(body: str, position: int) -> None:
    _adjacent_transposition_property(body, position, my_number_remainder, juminhyo_code_check_digit)


# --- 宛名番号 / 世帯番号 -----------------------------------------------------------------------


def test_atena_hand_computed_vectors() -> None:
    # 1234567: from the right 7,6,5,4,3,2,1 × 2,3,4,5,6,7,2 = 14+18+20+20+18+14+2 = 106;
    # 106 mod 11 = 7 → 4.
    assert atena_check_digit("1234567") == 4
    # Remainder 0 → 0: "0" → 0.
    assert atena_check_digit("0") == 0
    # Remainder 1 → 0 by Kikan's rule: "6" → 6×2 = 12, 12 mod 11 = 1.
    assert atena_check_digit("6") == 0
    # Remainder 10 → 1: "5" → 10.
    assert atena_check_digit("5") == 1
    # Cycle wraps after six weights: 7th digit from the right has weight 2 again.
    assert atena_check_digit("1000000") == atena_check_digit("1")


def test_make_atena_number() -> None:
    # Body 00000000000001: 1 × 2 = 2 → 11 − 2 = 9.
    assert make_atena_number(1) == "0" * 13 + "1" + "9"
    assert make_atena_number(12345, 8) == "0012345" + str(atena_check_digit("0012345"))
    assert len(make_atena_number(10**14 - 1)) == 15
    assert validate_atena_number(make_atena_number(987654321)) == make_atena_number(987654321)


def test_make_atena_number_serial_whose_remainder_is_one_still_gets_a_number() -> None:
    # Serial 6 in a 2-digit number: body "6" has r = 1 → check 0; allocation never skips.
    assert make_atena_number(6, 2) == "60"
    assert validate_atena_number("60", width=2) == "60"


@pytest.mark.parametrize(
    ("serial", "width"), [(0, 15), (-1, 15), (10**14, 15), (100, 3), (True, 15)]
)
def test_make_atena_number_serial_out_of_range(serial: int, width: int) -> None:
    with pytest.raises(IdentifierError) as info:
        make_atena_number(serial, width)
    assert info.value.code == "atena_number.serial_out_of_range"


def test_make_atena_number_bad_width() -> None:
    with pytest.raises(IdentifierError) as info:
        make_atena_number(1, 1)
    assert info.value.code == "atena_number.width"


def test_validate_atena_number_errors_and_item_name() -> None:
    good = make_atena_number(4321)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(IdentifierError) as info:
        validate_atena_number(bad)
    assert info.value.code == "atena_number.check_digit"
    assert info.value.message == "宛名番号の検査数字が正しくありません。"
    with pytest.raises(IdentifierError) as info:
        validate_atena_number(bad, "世帯番号")
    assert info.value.code == "setai_number.check_digit"
    assert info.value.item == "世帯番号"
    assert info.value.message == "世帯番号の検査数字が正しくありません。"
    with pytest.raises(IdentifierError) as info:
        validate_atena_number(good[1:], "世帯番号")
    assert info.value.code == "setai_number.length"
    assert "15桁" in info.value.message
    with pytest.raises(IdentifierError) as info:
        validate_atena_number(good[:-1] + "x")
    assert info.value.code == "atena_number.format"
    assert validate_atena_number(good.translate(FULLWIDTH)) == good
    assert is_valid_atena_number(good)
    assert not is_valid_atena_number(bad)
    assert not is_valid_atena_number(good, width=14)


def test_atena_empty_body() -> None:
    with pytest.raises(IdentifierError) as info:
        atena_check_digit("")
    assert info.value.code == "atena_number.length"


@given(digits(14))
def test_atena_any_body_validates(body: str) -> None:
    number = body + str(atena_check_digit(body))
    assert validate_atena_number(number) == number
    r = atena_remainder(body)
    assert atena_check_digit(body) == (0 if r <= 1 else 11 - r)


@given(st.integers(1, 10**14 - 1))
def test_make_atena_number_round_trip(serial: int) -> None:
    number = make_atena_number(serial)
    assert len(number) == 15
    assert int(number[:-1]) == serial
    assert validate_atena_number(number) == number


@given(digits(14), st.integers(0, 13), st.sampled_from("0123456789"))
def test_atena_single_substitution(body: str, position: int, new_digit: str) -> None:
    _assert_substitution_property(
        body, position, new_digit, atena_check_digit, atena_remainder, validate_atena_number
    )


@given(digits(14), st.integers(0, 12))
def test_atena_adjacent_transposition(body: str, position: int) -> None:
    _adjacent_transposition_property(body, position, atena_remainder, atena_check_digit)


# --- 地方公共団体コード ------------------------------------------------------------------------

# Real codes. 131016 and 011002 are DOMAIN.md's verified vectors; the others were checked by hand
# with the formula (shown as weighted sum → s mod 11 → check).
REAL_LOCAL_GOVERNMENT_CODES = {
    "131016": "千代田区",  # verified
    "011002": "札幌市",  # verified
    "141003": "横浜市",  # 6+20+4+0+0 = 30 → 8 → 3
    "271004": "大阪市",  # 12+35+4+0+0 = 51 → 7 → 4
    "231002": "名古屋市",  # 12+15+4+0+0 = 31 → 9 → 2
    "281000": "神戸市",  # 12+40+4+0+0 = 56 → 1 → (11−1) mod 10 = 0
    "131041": "新宿区",  # 6+15+4+0+8 = 33 → 0 → (11−0) mod 10 = 1
    "401307": "福岡市",  # 24+0+4+9+0 = 37 → 4 → 7
    "130001": "東京都",  # 6+15+0+0+0 = 21 → 10 → 1
}


@pytest.mark.parametrize("code", sorted(REAL_LOCAL_GOVERNMENT_CODES))
def test_real_local_government_codes(code: str) -> None:
    assert local_government_code_check_digit(code[:5]) == int(code[5])
    assert validate_local_government_code(code) == code
    assert validate_local_government_code(code.translate(FULLWIDTH)) == code


def test_local_government_code_errors() -> None:
    for value, code in [
        ("131017", "local_government_code.check_digit"),
        ("13101", "local_government_code.length"),
        ("13101６", None),
        ("13-101", "local_government_code.format"),
    ]:
        if code is None:
            assert is_valid_local_government_code(value)
            continue
        with pytest.raises(IdentifierError) as info:
            validate_local_government_code(value)
        assert info.value.code == code
        assert info.value.item == "地方公共団体コード"
        assert not is_valid_local_government_code(value)


@given(digits(5))
def test_local_government_code_matches_formula(body: str) -> None:
    expected = (11 - lg_remainder(body)) % 10
    assert local_government_code_check_digit(body) == expected
    assert is_valid_local_government_code(body + str(expected))


@given(digits(5), st.integers(0, 4), st.sampled_from("0123456789"))
def test_local_government_code_single_substitution(body: str, position: int, new: str) -> None:
    # Here the colliding remainders are 0 and 10 (both → check 1 after "mod 10").
    if body[position] == new:
        return
    mutated = body[:position] + new + body[position + 1 :]
    r_old, r_new = lg_remainder(body), lg_remainder(mutated)
    assert r_old != r_new
    code = body + str(local_government_code_check_digit(body))
    detected = not is_valid_local_government_code(mutated + code[-1])
    assert detected == ({r_old, r_new} != {0, 10})


def test_module_exports() -> None:
    for name in ids.__all__:
        assert hasattr(ids, name)
