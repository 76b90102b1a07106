"""Pure parts of the legacy import: dates, mapping files, reading and writing rows, synth."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from kikan.migration.legacy import MappingError, RawRow, Reader, load_mapping
from kikan.migration.records import Cleansing, RowReject, legacy_date_text, to_member
from kikan.migration.synth import CityGenerator, synth_to_files
from tests.migration.conftest import fixed_mapping

TODAY = date(2026, 11, 23)


def test_era_coded_unknown_dates_become_register_forms() -> None:
    assert legacy_date_text("3100000") == ("昭和10年月日不詳", True)
    assert legacy_date_text("3100400") == ("昭和10年4月日不詳", True)
    assert legacy_date_text("5060401") == ("5060401", False)
    assert legacy_date_text("R06.04.01") == ("R06.04.01", False)


def test_synth_is_deterministic_and_seed_dependent(tmp_path: Path) -> None:
    def digest(seed: int, name: str) -> str:
        data, _ = synth_to_files(
            tmp_path / name, "992003", 400, seed, legacy_format="cp932-fixed", today=TODAY
        )
        return hashlib.sha256(data.read_bytes()).hexdigest()

    assert digest(3, "a") == digest(3, "b")
    assert digest(3, "a") != digest(4, "c")


def test_synth_city_is_realistic_and_valid() -> None:
    gen = CityGenerator("992003", 3000, 11, today=TODAY)
    households = list(gen.households())
    people = [r for hh in households for r in hh]
    assert len(people) == 3000
    assert all(sum(r["zokugara"] == "世帯主" for r in hh) == 1 for hh in households)
    mean = len(people) / len(households)
    assert 1.8 < mean < 2.8
    foreign = [r for r in people if r["resident_kind"] == "2"]
    assert 20 < len(foreign) < 250
    assert any("𠮷" in r["family_name"] or "\U000e0110" in r["family_name"] for r in people)
    assert sum(1 for r in people if r.get("support_start")) >= 1
    assert len({r["juminhyo_code"] for r in people}) == 3000
    clean = Cleansing()
    for i, rec in enumerate(people):
        to_member(rec, ref=i, today=TODAY, clean=clean)  # every synthetic person is valid


def _decode(line: bytes) -> dict[str, str]:
    m = fixed_mapping()
    return Reader(Path("unused"), m).decode(RawRow(1, line, True), Cleansing())


def test_fixed_width_reader_maps_vendor_gaiji_and_rejects_bad_bytes(tmp_path: Path) -> None:
    data, _ = synth_to_files(tmp_path, "992003", 50, 1, legacy_format="cp932-fixed", today=TODAY)
    lines = data.read_bytes().split(b"\r\n")
    rec = _decode(lines[0])
    assert rec["household_key"].startswith("H")
    line = bytearray(lines[0])
    m = fixed_mapping()
    f = m.fields["family_name"]
    line[f.start : f.start + 4] = b"\xf0\x40\x93\x63"  # vendor 外字 F040 (𠮷) + 田
    assert _decode(bytes(line))["family_name"].startswith("𠮷田")
    line[f.start : f.start + 2] = b"\xf1\x41"  # not in the vendor table
    with pytest.raises(RowReject) as exc:
        _decode(bytes(line))
    assert exc.value.rule == "gaiji.unmapped"
    assert "外字表にない外字" in exc.value.reason
    assert exc.value.detail and exc.value.detail["gaiji"][0]["sjis"] == "F141"
    line[f.start : f.start + 2] = b"\x81\x7f"  # not CP932
    with pytest.raises(RowReject) as exc:
        _decode(bytes(line))
    assert exc.value.rule == "encoding"
    with pytest.raises(RowReject) as exc:
        _decode(lines[0][:100])
    assert exc.value.rule == "truncated"


def test_mapping_errors_are_japanese(tmp_path: Path) -> None:
    bad = tmp_path / "m.toml"
    bad.write_text('[source]\nformat = "xml"\nencoding = "cp932"\n', "utf-8")
    with pytest.raises(MappingError, match="fixed か csv"):
        load_mapping(bad)
    bad.write_text(
        '[source]\nformat = "csv"\nencoding = "utf-8"\n[fields]\nnope = { column = "x" }\n',
        "utf-8",
    )
    with pytest.raises(MappingError, match="取込項目にありません"):
        load_mapping(bad)


def test_unsafe_characters_reject_the_row_without_ending_the_import() -> None:
    """ADR 0010: the value objects refuse format characters; the importer reports the row."""
    gen = CityGenerator("992003", 5, 11, today=TODAY)
    rec = next(r for hh in gen.households() for r in hh)
    clean = Cleansing()
    for item, value in (
        ("banchi", "1番地\u202e"),
        ("honseki_chiban", "1\u200d番"),
        ("given_name", "名" * 60),
    ):
        if item == "honseki_chiban" and not rec.get("honseki_prefecture"):
            continue
        with pytest.raises(RowReject) as exc:
            to_member({**rec, item: value}, ref=1, today=TODAY, clean=clean)
        assert exc.value.rule == "invalid" and value not in exc.value.reason, exc.value.reason
