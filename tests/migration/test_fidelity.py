"""Issue 15, migration you can trust: legacy numbers kept (or cross-referenced), combined names
split, フリガナ widened with the original kept, 外字 targets proven MJ, reruns idempotent by
content, mappings checked before any row is read — and the imported city passes `kikan check`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kikan.migration.importer import import_file
from kikan.migration.legacy import MappingError, load_mapping
from kikan.migration.records import (
    Cleansing,
    RowReject,
    full_width_katakana,
    legacy_number,
    split_name,
    to_member,
)
from kikan.migration.report import build
from kikan.migration.store import ImportRejectRow, MigrationPersonRow
from kikan.migration.xref import find
from kikan.platform.context import Context
from kikan.platform.ids import make_atena_number
from kikan.platform.uow import Database
from kikan.residents import bulk
from kikan.residents.domain import Address
from kikan.residents.store import CurrentRow, HouseholdRow
from tests.conftest import Backend, create_tenant
from tests.migration.conftest import ACTOR
from tests.migration.legacy_faults import (
    ATENA_BASE,
    CSV_FILE,
    CSV_MAPPING,
    FIXED_MAPPING,
    HOUSEHOLD_BASE,
    halfwidth,
    legacy_atena,
    write_faulty_fixed,
)
from tests.migration.records_util import person

# ---------------------------------------------------------------- mapping checks (no rows)


def _mapping(tmp_path: Path, fields: str, extra: str = "") -> Path:
    path = tmp_path / "m.toml"
    path.write_text(
        '[source]\nformat = "fixed"\nencoding = "cp932"\n' + extra + "\n[fields]\n" + fields,
        "utf-8",
    )
    return path


def test_mapping_naming_an_item_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = _mapping(
        tmp_path,
        "household_key = { start = 0, length = 10 }\n"
        "family_name = { start = 10, length = 20 }\n"
        "family_name = { start = 30, length = 20 }\n",
    )
    with pytest.raises(MappingError, match="「family_name」が二度指定されています（7行目と8行目）"):
        load_mapping(path)


def test_overlapping_fixed_ranges_are_refused_with_the_ranges(tmp_path: Path) -> None:
    path = _mapping(
        tmp_path,
        "atena_number = { start = 0, length = 10 }\n"
        "household_number = { start = 10, length = 10 }\n"
        "full_name = { start = 18, length = 40 }\n",
    )
    with pytest.raises(MappingError) as exc:
        load_mapping(path)
    assert "「household_number」（10〜19バイト）と「full_name」（18〜57バイト）" in str(exc.value)
    assert "重なっています" in str(exc.value)


def test_combined_name_beside_its_parts_and_bad_policies_are_refused(tmp_path: Path) -> None:
    both = _mapping(
        tmp_path,
        "household_key = { start = 0, length = 10 }\nfull_name = { start = 10, length = 20 }\n"
        "family_name = { start = 30, length = 20 }\n",
    )
    with pytest.raises(MappingError, match=r"full_name.*family_name.*両方"):
        load_mapping(both)
    policy = _mapping(
        tmp_path,
        "atena_number = { start = 0, length = 10 }\nhousehold_key = { start = 10, length = 10 }\n"
        "family_name = { start = 20, length = 20 }\n",
        '[numbers]\natena_number = "guess"\n',
    )
    with pytest.raises(MappingError, match=r"keep.*renumber"):
        load_mapping(policy)


def test_the_first_try_of_the_issue_is_now_a_mapping() -> None:
    m = load_mapping(FIXED_MAPPING)
    assert m.fields["atena_number"].start == 0 and m.fields["atena_number"].length == 10
    assert m.keeps("atena_number") and m.keeps("household_number")
    assert m.household_item == "household_number"
    c = load_mapping(CSV_MAPPING)
    assert not c.keeps("atena_number") and "full_name" in c.fields


# ---------------------------------------------------------------- pure rules


def test_split_name_never_guesses() -> None:
    assert split_name("渡邉\U000e0101\u3000結衣", "full_name") == ("渡邉\U000e0101", "結衣")
    assert split_name("ﾜﾀﾅﾍﾞ ﾕｲ", "full_name_kana") == ("ﾜﾀﾅﾍﾞ", "ﾕｲ")
    for text in ("佐藤花子", "\u3000翔", "グエン\u3000ヴァン\u3000アン"):
        with pytest.raises(RowReject) as exc:
            split_name(text, "full_name")
        assert exc.value.rule == "name.split" and "氏と名" in exc.value.reason


def test_furigana_is_widened_to_full_width_katakana() -> None:
    assert full_width_katakana("ﾜﾀﾅﾍﾞ") == "ワタナベ"
    assert full_width_katakana("ﾊﾟﾊﾟｲﾔｰ") == "パパイヤー"
    assert full_width_katakana("やまだ") == "ヤマダ"
    assert halfwidth("ヴァンアン") == "ｳﾞｧﾝｱﾝ"  # the test generator's inverse


def test_legacy_numbers_keep_their_check_digit_and_pad_to_the_register_width() -> None:
    legacy = make_atena_number(1234, 10)
    assert legacy_number(legacy, "atena_number", keep=True) == make_atena_number(1234, 15)
    wrong = legacy[:-1] + str((int(legacy[-1]) + 1) % 10)
    with pytest.raises(RowReject) as exc:
        legacy_number(wrong, "atena_number", keep=True)
    assert exc.value.rule == "atena_number.check_digit" and "検査数字" in exc.value.reason
    with pytest.raises(RowReject, match="すべて0"):
        legacy_number("0000000000", "atena_number", keep=True)
    with pytest.raises(RowReject, match="15桁を超える"):
        legacy_number("1" * 16, "atena_number", keep=True)
    assert legacy_number(wrong, "atena_number", keep=False, check=False) == wrong
    huge = make_atena_number(2**31, 15)  # valid, but past what the sequences can continue from
    with pytest.raises(RowReject, match="renumber"):
        legacy_number(huge, "atena_number", keep=True)
    assert legacy_number(huge, "atena_number", keep=False) == huge


# ---------------------------------------------------------------- the faulty legacy file


def _preexisting_resident(db: Database, tenant: str, ctx: Context) -> str:
    """One person entered before the migration: takes 宛名番号 serial 1 from the sequence."""
    rec = person(family_name="先住", given_name="一郎", juminhyo="92000000001")
    rec["city_code"] = tenant
    member, address = to_member(rec, ref=1, today=ctx.today, clean=_clean())
    with db.unit_of_work(tenant) as uow:
        result = bulk.load(uow, ctx, [bulk.BulkHousehold(address, [member])], label="先住")
        uow.commit()
    return result.atena_numbers[1]


def _clean() -> Cleansing:
    return Cleansing()


def _rejects(db: Database, tenant: str) -> dict[int, ImportRejectRow]:
    with db.unit_of_work(tenant) as uow:
        rows = {r.row_no: r for r in uow.session.scalars(select(ImportRejectRow))}
        uow.commit()
    return rows


def _count(db: Database, tenant: str) -> int:
    with db.unit_of_work(tenant) as uow:
        return uow.session.scalar(select(func.count()).select_from(CurrentRow)) or 0


def test_faulty_fixed_file_keeps_numbers_and_accounts_for_every_row(
    db: Database, tmp_path: Path, ctx: Context
) -> None:
    tenant = create_tenant(db, "旧番号市")
    first = _preexisting_resident(db, tenant, ctx)
    assert first == make_atena_number(1, 15)
    data = tmp_path / "legacy.dat"
    f = write_faulty_fixed(data, tenant, 160, 4, today=ctx.today)
    mapping = load_mapping(FIXED_MAPPING)

    outcome = import_file(db, tenant, data, mapping, ctx=ctx, workers=2)

    assert outcome.total == f.total
    assert outcome.imported + outcome.present + outcome.worklist + outcome.rejected == f.total
    assert outcome.imported == f.good_rows and outcome.present == 0
    rejects = _rejects(db, tenant)
    assert len(rejects) == f.total - f.good_rows
    expected = {
        "atena.check_digit": ("atena_number.check_digit", "rejected"),
        "atena.duplicate": ("atena_number.duplicate", "rejected"),
        "atena.used": ("atena_number.used", "rejected"),
        "household.check_digit": ("household_number.check_digit", "rejected"),
        "name.no_space": ("name.split", "worklist"),
        "name.empty_part": ("name.split", "worklist"),
        "kana.no_space": ("name.split", "worklist"),
        "gaiji.adobe_ivs": ("gaiji.not_mj", "worklist"),
        "gaiji.not_mj": ("gaiji.not_mj", "worklist"),
    }
    for kind, (rule, outcome_kind) in expected.items():
        for row in f.faults[kind]:
            assert (rejects[row].rule, rejects[row].outcome) == (rule, outcome_kind), (
                kind,
                rejects[row].reason,
            )
            assert any("\u3040" <= ch <= "\u9fff" for ch in rejects[row].reason)
    a, b = f.faults["atena.duplicate"]
    assert f"第{b}行" in rejects[a].reason and f"第{a}行" in rejects[b].reason
    assert "U+9089 U+E0100" in rejects[f.faults["gaiji.adobe_ivs"][0]].reason
    assert outcome.worklist == 5 and outcome.rejected == 5

    with db.unit_of_work(tenant) as uow:
        people = {p.row_no: p for p in uow.session.scalars(select(MigrationPersonRow))}
        current = {c.atena_number: c for c in uow.session.scalars(select(CurrentRow))}
        homes = set(uow.session.scalars(select(HouseholdRow.household_number)))
        uow.commit()
    # the legacy numbers are the register's numbers (check digit kept by zero padding)
    for row in range(1, f.good_rows + 1):
        kept = make_atena_number(ATENA_BASE + row, 15)
        assert people[row].atena_number == people[row].legacy_atena == kept
        assert kept in current
        assert people[row].household_number in homes
        assert people[row].household_number.startswith("0000000")
    assert make_atena_number(HOUSEHOLD_BASE + 1, 15) in homes
    # フリガナ widened to full-width katakana; the text as read is kept beside the person
    row = f.halfwidth_rows[0]
    kana = current[people[row].atena_number].full_kana
    assert kana and all(not "\uff61" <= ch <= "\uff9f" for ch in kana)
    assert people[row].original["full_name_kana"] == halfwidth(kana)
    # the sequences continue after the highest legacy number in the file
    rec = {"family_name": "新規", "given_name": "花子"}
    member, address = to_member(
        person(**rec, juminhyo="92000000010"), ref=1, today=ctx.today, clean=_clean()
    )
    with db.unit_of_work(tenant) as uow:
        fresh = bulk.load(uow, ctx, [bulk.BulkHousehold(address, [member])], label="新規")
        uow.commit()
    assert fresh.atena_numbers[1] == make_atena_number(ATENA_BASE + 60_001 + 1, 15)

    # the 外字 worklist carries MJ candidates for the non-MJ targets
    report = build(db, tenant, [outcome.sha256])
    adobe = next(g for g in report.gaiji if g.char == "邉\U000e0100")
    assert "邉" in [c for c, _n in adobe.candidates]
    assert "邉\U000e0110" in [c for c, _n in adobe.candidates]

    # an edited file (a blank line, one address changed, and every other row without its
    # 住民票コード and 個人番号, so only the legacy 宛名番号 can tell) adds nobody
    lines = data.read_bytes().split(b"\r\n")
    fields = load_mapping(FIXED_MAPPING).fields
    for i, raw in enumerate(lines):
        line = bytearray(raw)
        if i == 0:
            spec = fields["banchi"]
            line[spec.start : spec.start + spec.length] = "９番９号".encode("cp932").ljust(
                spec.length
            )
        if i % 2 == 1 and raw:
            for item in ("juminhyo_code", "my_number"):
                spec = fields[item]
                line[spec.start : spec.start + spec.length] = b" " * spec.length
        lines[i] = bytes(line)
    edited = tmp_path / "legacy_edited.dat"
    edited.write_bytes(b"\r\n".join([*lines[:5], b"", *lines[5:]]))
    before = _count(db, tenant)
    again = import_file(db, tenant, edited, mapping, ctx=ctx, workers=0)
    assert _count(db, tenant) == before
    assert again.imported == 0 and again.present == f.good_rows
    assert again.present + again.worklist + again.rejected == again.total == f.total


def test_golden_csv_with_combined_names_renumbers_with_a_cross_reference(
    db: Database, ctx: Context, tmp_path: Path
) -> None:
    tenant = create_tenant(db, "振直市")
    mapping = load_mapping(CSV_MAPPING)
    outcome = import_file(db, tenant, CSV_FILE, mapping, ctx=ctx, workers=0)
    assert outcome.total == 12
    assert (outcome.imported, outcome.worklist, outcome.rejected) == (5, 4, 3)
    rejects = _rejects(db, tenant)
    assert {r: (x.rule, x.outcome) for r, x in rejects.items()} == {
        4: ("gaiji.not_mj", "worklist"),  # 渡邉 + an Adobe-Japan1 IVS
        5: ("name.split", "worklist"),  # 佐藤花子: no space
        6: ("atena_number.check_digit", "rejected"),
        7: ("atena_number.duplicate", "rejected"),
        8: ("atena_number.duplicate", "rejected"),
        11: ("name.split", "worklist"),  # 　翔: empty 氏
        12: ("name.split", "worklist"),  # ナカムラ: no 名 reading
    }
    with db.unit_of_work(tenant) as uow:
        names = {
            c.full_name: (c.full_kana, c.atena_number)
            for c in uow.session.scalars(select(CurrentRow))
        }
        uow.commit()
    assert names["山田　花子"][0] == "ヤマダ　ハナコ"  # half-width with a half-width space
    assert names["山田　一郎"][0] == "ヤマダ　イチロウ"  # hiragana
    # renumbered: new numbers from the sequence, the legacy ones in the cross-reference table
    assert names["山田　太郎"][1] == make_atena_number(1, 15)
    rows = find(db, tenant, legacy="0000001015", actor=ACTOR)
    assert [(r["旧宛名番号"], r["宛名番号"]) for r in rows] == [
        ("0000001015", make_atena_number(1, 15))
    ]
    by_new = find(db, tenant, atena=names["伊藤　蓮"][1], actor=ACTOR)
    assert by_new[0]["旧宛名番号"] == "0000001104" and by_new[0]["旧世帯番号"] == "0000005070"
    assert len(find(db, tenant, actor=ACTOR)) == 5

    # renumbered persons are recognised by their legacy number too: an edited copy without
    # 住民票コード and 個人番号 (and with a blank line) adds nobody
    edited = tmp_path / "edited.csv"
    lines = CSV_FILE.read_text("utf-8").splitlines()
    cut = [lines[0]] + [",".join(c if i not in (7, 8) else "" for i, c in enumerate(ln.split(",")))
                        for ln in lines[1:]]  # fmt: skip
    edited.write_text("\r\n".join([*cut[:3], "", *cut[3:]]) + "\r\n", "utf-8")
    again = import_file(db, tenant, edited, mapping, ctx=ctx, workers=0)
    assert (again.imported, again.present, again.worklist, again.rejected) == (0, 5, 4, 3)
    assert len(find(db, tenant, actor=ACTOR)) == 5


def test_bulk_refuses_numbers_held_by_a_current_resident_or_twice_in_a_batch(
    db: Database, ctx: Context
) -> None:
    tenant = create_tenant(db, "重複市")
    clean = _clean()

    def member(ref: int, juminhyo: str, my_number: str = "") -> tuple[bulk.BulkMember, Address]:
        rec = person(family_name="重複", given_name=f"{ref}号", juminhyo=juminhyo)
        rec["my_number"] = my_number
        return to_member(rec, ref=ref, today=ctx.today, clean=clean)

    one, address = member(1, "92000000001", "400000001013")
    with db.unit_of_work(tenant) as uow:
        bulk.load(uow, ctx, [bulk.BulkHousehold(address, [one])], label="先")
        uow.commit()
    same_code = member(2, "92000000001")[0]
    same_number = member(3, "92000000010", "400000001013")[0]
    twice_a = member(4, "92000000028")[0]
    twice_b = member(5, "92000000028")[0]
    with db.unit_of_work(tenant) as uow:
        result = bulk.load(
            uow,
            ctx,
            [
                bulk.BulkHousehold(address, [same_code]),
                bulk.BulkHousehold(address, [same_number]),
                bulk.BulkHousehold(address, [twice_a]),
                bulk.BulkHousehold(address, [twice_b]),
            ],
            label="後",
        )
        uow.commit()
    refused = {r.ref: r for r in result.rejected}
    assert set(refused) == {2, 3, 5} and list(result.atena_numbers) == [4]
    assert refused[2].item == "住民票コード" and refused[2].existing == make_atena_number(1, 15)
    assert refused[3].item == "個人番号" and "400000001013" not in refused[3].message
    assert refused[5].code == "person.duplicate" and refused[5].existing == ""


# ---------------------------------------------------------------- acceptance (CLI)


def kikan(
    backend: Backend, keyfile: Path, tmp: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KIKAN_DATABASE_URL": backend.app_url,
        "KIKAN_MYNUMBER_KEY_FILE": str(keyfile),
        "KIKAN_VAR_DIR": str(tmp),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "kikan", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_imported_city_passes_the_checker_and_an_edited_rerun_adds_nobody(
    backend: Backend, db: Database, tmp_path: Path, keyfile: Path, ctx: Context
) -> None:
    tenant = create_tenant(db, "受入市")
    _preexisting_resident(db, tenant, ctx)
    data = tmp_path / "legacy.dat"
    f = write_faulty_fixed(data, tenant, 120, 9, today=ctx.today)
    r = kikan(backend, keyfile, tmp_path, "import", "legacy", "--mapping", str(FIXED_MAPPING),
              "--tenant", tenant, "--report-dir", str(tmp_path / "rep"), str(data))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    worklist, rejected = 5, f.total - f.good_rows - 5
    assert (
        f"全{f.total:,}行 = 取込{f.good_rows:,}行 + 取込済み0行 + 作業リスト{worklist}行"
        f" + 不採用{rejected}行"
    ) in r.stdout
    out = tmp_path / "export"
    r = kikan(
        backend, keyfile, tmp_path, "export", "standard", "--tenant", tenant, "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert {m["group"]: m["rows"] for m in manifest["files"]}["person"] == f.good_rows + 1
    r = kikan(backend, keyfile, tmp_path, "check", "--layout", "住民記録",
              *sorted(str(p) for p in out.glob("*.csv")))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "不適合" not in r.stdout and "適合" in r.stdout

    edited = tmp_path / "edited.dat"
    edited.write_bytes(b"\r\n" + data.read_bytes() + b"\r\n")
    r = kikan(backend, keyfile, tmp_path, "import", "legacy", "--mapping", str(FIXED_MAPPING),
              "--tenant", tenant, "--report-dir", str(tmp_path / "rep2"), str(edited))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"取込0行 + 取込済み{f.good_rows:,}行" in r.stdout
    assert _count(db, tenant) == f.good_rows + 1

    xref = tmp_path / "xref.csv"
    r = kikan(backend, keyfile, tmp_path, "import", "xref", "--tenant", tenant, "--out", str(xref))
    assert r.returncode == 0, r.stderr
    lines = xref.read_text("utf-8-sig").splitlines()
    assert lines[0].startswith("旧宛名番号,宛名番号") and len(lines) == f.good_rows + 1
    r = kikan(backend, keyfile, tmp_path, "import", "xref", "--tenant", tenant,
              "--legacy", legacy_atena(ATENA_BASE + 1))  # fmt: skip
    assert r.returncode == 0 and make_atena_number(ATENA_BASE + 1, 15) in r.stdout
