"""The checker on a valid set and on one broken thing at a time: exact report lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from kikan.conformance import check_files
from kikan.platform import ids
from tests.conformance.helpers import Rows, check, lines, person_index, sample_rows, write


def test_valid_sample_set_passes(tmp_path: Path) -> None:
    rows = sample_rows()
    paths = write(tmp_path, rows)
    report = check_files("住民記録", paths)
    assert report.findings == []
    assert report.ok and report.exit_code == 0
    assert {s.group for s in report.files} == {"世帯", "個人", "住所", "異動履歴", "支援措置"}
    assert [s.rows for s in report.files] == [len(rows[code]) for code in rows]
    assert all(s.encoding == "UTF-8" and s.newline == "LF" for s in report.files)


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    paths = write(tmp_path, sample_rows(), bom=True, crlf=True)
    report = check_files("residents", paths)
    assert report.findings == []
    assert all(s.encoding == "UTF-8（BOM付き）" and s.newline == "CRLF" for s in report.files)


def test_mixed_line_endings_warn_once(tmp_path: Path) -> None:
    paths = write(tmp_path, sample_rows(), ("household", "person"), crlf=True)
    person = paths[1]
    data = person.read_bytes().replace(b"\r\n", b"\n", 2)
    person.write_bytes(data)
    report = check_files("住民記録", paths)
    assert lines(report) == [("person.csv", 3, "", "newline", "warning")]
    assert report.ok


def test_group_detected_from_header_or_named_explicitly(tmp_path: Path) -> None:
    rows = sample_rows()
    household, person = write(tmp_path, rows, ("household", "person"))
    renamed = tmp_path / "vendor_export_A.csv"
    person.rename(renamed)
    other = tmp_path / "x.csv"
    household.rename(other)
    report = check_files("住民記録", [renamed, f"世帯={other}"])
    assert report.findings == []
    assert [s.group for s in report.files] == ["個人", "世帯"]


def test_code_names_are_accepted_as_header(tmp_path: Path) -> None:
    from kikan.conformance.samples import write_group_csv
    from kikan.standard.layouts import layout

    rows = sample_rows()
    lay = layout("residents")
    paths = []
    for code in ("household", "person"):
        path = tmp_path / f"{code}.csv"
        write_group_csv(path, lay.group(code), rows[code], header="code")
        paths.append(path)
    assert check_files("住民記録", paths).findings == []


def test_cp932_file_is_reported_per_line_not_crashing(tmp_path: Path) -> None:
    def ascii_safe(rows: Rows) -> None:
        for row in rows["household"]:
            row["head_name"] = "山田太郎"

    rows = sample_rows()
    ascii_safe(rows)
    household, person = write(tmp_path, rows, ("household", "person"))
    household.write_bytes(household.read_text("utf-8").encode("cp932"))
    report = check_files("住民記録", [household, person])
    n = len(rows["household"])
    assert lines(report) == [("household.csv", i, "", "encoding", "error") for i in range(1, n + 2)]
    assert "CP932（Shift_JIS）" in report.findings[0].message
    assert report.files[0].encoding == f"UTF-8 以外を含む（{n + 1}行）"
    assert report.exit_code == 1


def test_broken_bytes_are_reported_with_position(tmp_path: Path) -> None:
    household, person = write(tmp_path, sample_rows(), ("household", "person"))
    data = household.read_bytes().split(b"\n")
    data[2] = data[2] + b"\xff\xfe"
    household.write_bytes(b"\n".join(data))
    report = check_files("住民記録", [household, person])
    assert lines(report) == [("household.csv", 3, "", "encoding", "error")]
    assert "UTF-8 として不正なバイト列" in report.findings[0].message


def test_ragged_row(tmp_path: Path) -> None:
    household, person = write(tmp_path, sample_rows(), ("household", "person"))
    text = person.read_text("utf-8").split("\n")
    text[2] = text[2].rsplit(",", 1)[0]  # line 3 loses its last column
    person.write_text("\n".join(text), encoding="utf-8")
    report = check_files("住民記録", [household, person])
    assert lines(report) == [("person.csv", 3, "", "row.columns", "error")]
    assert report.findings[0].message == "列数が見出しと異なります（見出し43列、この行42列）。"


def test_missing_header_item(tmp_path: Path) -> None:
    household, person = write(tmp_path, sample_rows(), ("household", "person"))
    table = [line.split(",") for line in person.read_text("utf-8").splitlines()]
    col = table[0].index("住民票コード")
    person.write_text("\n".join(",".join(r[:col] + r[col + 1 :]) for r in table) + "\n")
    report = check_files("住民記録", [household, person])
    assert lines(report) == [("person.csv", 1, "住民票コード", "header.missing", "error")]
    assert (
        report.findings[0].message == "見出しに項目「住民票コード」（juminhyo_code）がありません。"
    )


def test_unknown_code(tmp_path: Path) -> None:
    def change(rows: Rows) -> None:
        rows["person"][1]["sex"] = "3"

    report = check(tmp_path, change)
    assert lines(report) == [("person.csv", 3, "性別", "code", "error")]
    assert report.findings[0].message == "性別のコード「3」は性別のコード表（sex）にありません。"


@pytest.mark.parametrize(
    ("group", "item", "name", "value", "message"),
    [
        (
            "person",
            "birth_date",
            "生年月日",
            "平成31年5月1日",
            "生年月日：「平成31年5月1日」は平成の期間外の日付です。",
        ),
        (
            "person",
            "move_out_planned_date",
            "転出予定年月日",
            "平成31年5月1日",
            "転出予定年月日：平成31年5月1日は存在しない日付です（平成は平成31年4月30日まで）。",
        ),
        (
            "support_measure",
            "start_date",
            "支援措置開始年月日",
            "2023-02-29",
            "支援措置開始年月日：2023年2月29日は存在しない日付です"
            "（2023年は閏年ではないため2月29日はありません）。",
        ),
    ],
)
def test_impossible_dates(
    tmp_path: Path, group: str, item: str, name: str, value: str, message: str
) -> None:
    def change(rows: Rows) -> None:
        rows[group][0][item] = value

    report = check(tmp_path, change, groups=None)
    assert lines(report) == [(f"{group}.csv", 2, name, "date", "error")]
    assert report.findings[0].message == message


@pytest.mark.parametrize("value", ["令和5年頃", "R5-??-??!about", "年月日不詳", "平成2年3月上旬"])
def test_unknown_date_only_where_allowed(tmp_path: Path, value: str) -> None:
    def change(rows: Rows) -> None:
        rows["person"][0]["birth_date"] = value  # 不詳 allowed
        rows["person"][1]["move_out_planned_date"] = value  # not allowed

    report = check(tmp_path, change)
    assert lines(report) == [
        ("person.csv", 3, "転出予定年月日", "date.unknown_not_allowed", "error")
    ]
    assert report.findings[0].message == (
        f"転出予定年月日には不詳の日付（「{value}」）を記録できません。暦上の日付にしてください。"
    )


def test_day_not_on_the_calendar_is_allowed_only_for_unknown_items(tmp_path: Path) -> None:
    def change(rows: Rows) -> None:
        rows["person"][0]["birth_date"] = "令和5年2月29日"  # spec 1.1.8: allowed (戸籍 agrees)
        rows["person"][1]["move_out_planned_date"] = "令和5年2月29日"

    report = check(tmp_path, change)
    assert lines(report) == [("person.csv", 3, "転出予定年月日", "date", "error")]


def test_non_iso_real_date_is_a_warning(tmp_path: Path) -> None:
    def change(rows: Rows) -> None:
        rows["person"][0]["move_out_planned_date"] = "令和6年4月1日"

    report = check(tmp_path, change)
    assert lines(report) == [("person.csv", 2, "転出予定年月日", "date.format", "warning")]
    assert report.ok


def test_wrong_check_digits(tmp_path: Path) -> None:
    good_code = "1234567890" + str(ids.juminhyo_code_check_digit("1234567890"))
    bad_code = good_code[:-1] + str((int(good_code[-1]) + 1) % 10)
    good_number = "12345678901" + str(ids.my_number_check_digit("12345678901"))
    bad_number = good_number[:-1] + str((int(good_number[-1]) + 1) % 10)

    def change(rows: Rows) -> None:
        rows["person"][0]["juminhyo_code"] = bad_code
        rows["person"][1]["my_number"] = bad_number
        rows["person"][2]["my_number"] = "1234"

    report = check(tmp_path, change)
    assert lines(report) == [
        ("person.csv", 2, "住民票コード", "check_digit", "error"),
        ("person.csv", 3, "個人番号", "check_digit", "error"),
        ("person.csv", 4, "個人番号", "length", "error"),
    ]
    assert [f.message for f in report.findings] == [
        "住民票コードの検査数字が正しくありません。",
        "個人番号の検査数字が正しくありません。",
        "個人番号は12桁で記録してください（4桁です）。",
    ]
    assert all(bad_number not in f.message for f in report.findings)


def test_wrong_atena_and_city_code_check_digits(tmp_path: Path) -> None:
    def change(rows: Rows) -> None:
        rows["address"][0]["city_code"] = "131017"  # 千代田区 is 131016

    report = check(tmp_path, change, groups=("household", "person", "address"))
    assert lines(report) == [("address.csv", 2, "市区町村コード", "check_digit", "error")]


def test_pua_gaiji_and_outside_mj(tmp_path: Path) -> None:
    def change(rows: Rows) -> None:
        rows["person"][0]["family_name"] = "山\ue000"
        rows["person"][1]["family_name"] = "山田\U0001f600"
        rows["person"][2]["family_name"] = "ﾔﾏﾀﾞ"

    report = check(tmp_path, change)
    assert lines(report) == [
        ("person.csv", 2, "氏", "chars.gaiji", "error"),
        ("person.csv", 3, "氏", "chars.outside_mj", "error"),
        ("person.csv", 4, "氏", "chars.halfwidth_kana", "error"),
    ]
    assert report.findings[0].message == (
        "氏の2文字目は外字（私用領域の文字 U+E000）です。文字情報基盤（MJ）の文字に同定してください。"
    )
    assert report.findings[2].message.endswith("（ほか3文字）。")


def test_full_width_item_with_half_width_text(tmp_path: Path) -> None:
    def change(rows: Rows) -> None:
        rows["person"][0]["family_name"] = "山田 太郎"

    report = check(tmp_path, change)
    assert lines(report) == [("person.csv", 2, "氏", "type.zenkaku", "error")]
    assert report.findings[0].message == "氏は全角文字で記録してください（3文字目が半角です）。"


def test_two_heads_in_one_household(tmp_path: Path) -> None:
    def change(rows: Rows) -> None:
        member = person_index(rows, head=False)
        rows["person"][member]["zokugara_code"] = "01"
        rows["person"][member]["zokugara"] = "世帯主"
        change.line = member + 2  # type: ignore[attr-defined]
        change.head = member + 1  # type: ignore[attr-defined]  # the head precedes its members

    report = check(tmp_path, change)
    line = change.line  # type: ignore[attr-defined]
    assert lines(report) == [("person.csv", line, "世帯番号", "one_per_key", "error")]
    assert "の世帯主が複数います" in report.findings[0].message
    assert report.findings[0].message.endswith(f"（{change.head}行目にも世帯主）。")  # type: ignore[attr-defined]


def test_member_of_missing_household(tmp_path: Path) -> None:
    missing = ids.make_atena_number(999, 15, item="世帯番号")

    def change(rows: Rows) -> None:
        member = person_index(rows, head=False)
        rows["person"][member]["household_number"] = missing
        change.line = member + 2  # type: ignore[attr-defined]

    report = check(tmp_path, change)
    line = change.line  # type: ignore[attr-defined]
    assert lines(report) == [
        ("person.csv", line, "世帯番号", "reference", "error"),
        # The orphan "household" has a current member and no head: reported too (warning).
        ("person.csv", line, "世帯番号", "one_per_key.none", "warning"),
    ]
    assert report.findings[0].message == f"世帯番号「{missing}」が世帯のファイルにありません。"


def test_household_without_head_is_a_warning_on_its_own_line(tmp_path: Path) -> None:
    def change(rows: Rows) -> None:
        head = person_index(rows, head=True)
        rows["person"][head]["status"] = "21"  # the head died; others remain: 世帯主不在

    report = check(tmp_path, change)
    assert lines(report) == [("household.csv", 2, "世帯番号", "one_per_key.none", "warning")]
    assert report.ok


def test_duplicate_atena_number(tmp_path: Path) -> None:
    def change(rows: Rows) -> None:
        rows["person"][2]["atena_number"] = rows["person"][1]["atena_number"]

    report = check(tmp_path, change)
    assert lines(report) == [("person.csv", 4, "宛名番号", "unique", "error")]
    number = sample_rows()["person"][1]["atena_number"]
    assert report.findings[0].message == f"宛名番号「{number}」が重複しています（3行目と同じ）。"


def test_required_and_required_when(tmp_path: Path) -> None:
    def change(rows: Rows) -> None:
        rows["person"][0]["family_name"] = ""
        rows["person"][1]["resident_kind"] = "2"
        rows["person"][1]["nationality"] = ""
        rows["person"][1]["article_30_45"] = "2"

    report = check(tmp_path, change)
    assert lines(report) == [
        ("person.csv", 2, "氏", "required", "error"),
        ("person.csv", 3, "国籍・地域", "required", "error"),
    ]
    assert report.findings[1].message == "住民種別が「2」のときは国籍・地域が必要です。"


def test_missing_target_file_skips_reference_with_warning(tmp_path: Path) -> None:
    report = check(tmp_path, groups=("person",))
    assert lines(report) == [("person.csv", None, "世帯番号", "reference.skipped", "warning")]
    assert report.ok


def test_unreadable_and_undetectable_files(tmp_path: Path) -> None:
    stray = tmp_path / "notes.csv"
    stray.write_text("a,b\n1,2\n", encoding="utf-8")
    report = check_files("住民記録", [tmp_path / "nope.csv", stray])
    assert lines(report) == [
        ("nope.csv", None, "", "file.read", "error"),
        ("notes.csv", 1, "", "file.group", "error"),
    ]


def test_findings_are_capped_per_rule_but_counted(tmp_path: Path) -> None:
    rows = sample_rows(households=30)
    for row in rows["person"]:
        row["sex"] = "7"
    paths = write(tmp_path, rows, ("household", "person"))
    report = check_files("住民記録", paths, max_per_rule=5)
    n = len(rows["person"])
    assert report.error_count == n
    assert len(report.findings) == 6
    assert (
        report.findings[-1].message
        == f"同じ種類の指摘がほかに{n - 5}件あります（表示は先頭5件まで）。"
    )
