"""A synthetic legacy export with the faults of issue 15, in the golden CP932 fixed-width layout
(tests/migration/data/golden_cp932_fixed.toml): legacy 宛名番号 / 世帯番号 with M11 check digits,
氏名 and 氏名カナ in one field each (full-width space, a third of the readings in half-width
katakana with a half-width space), vendor 外字, and one household per fault appended at the end.

Deterministic (a synthetic city of `kikan.migration.synth` underneath): the same arguments give
the same bytes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kikan.migration.legacy import Writer, load_mapping
from kikan.migration.synth import CityGenerator
from kikan.platform.ids import juminhyo_code_check_digit, make_atena_number

DATA = Path(__file__).parent / "data"
FIXED_MAPPING = DATA / "golden_cp932_fixed.toml"
CSV_MAPPING = DATA / "golden_utf8_csv_combined.toml"
CSV_FILE = DATA / "golden_utf8_combined.csv"

ATENA_BASE = 1000  # legacy 宛名番号 serials start here (a pre-existing resident holds serial 1)
HOUSEHOLD_BASE = 7000


def _halfwidth_map() -> dict[str, str]:
    out: dict[str, str] = {}
    for cp in range(0xFF61, 0xFFA0):
        hw = chr(cp)
        out.setdefault(unicodedata.normalize("NFKC", hw), hw)
    for full, hw in list(out.items()):
        for mark, hw_mark in (("\u3099", "\uff9e"), ("\u309a", "\uff9f")):
            composed = unicodedata.normalize("NFC", full + mark)
            if len(composed) == 1:
                out.setdefault(composed, hw + hw_mark)
    return out


_HW = _halfwidth_map()


def halfwidth(text: str) -> str:
    """Full-width katakana (and the full-width space) as a legacy system wrote them."""
    return "".join(" " if c == "\u3000" else _HW.get(c, c) for c in text)


def legacy_atena(serial: int) -> str:
    return make_atena_number(serial, 10)


@dataclass
class FaultyFile:
    path: Path
    good_rows: int  # rows that must be imported
    faults: dict[str, list[int]] = field(default_factory=dict)  # kind → row numbers
    halfwidth_rows: list[int] = field(default_factory=list)
    total: int = 0


def _juminhyo(n: int) -> str:
    body = f"{9_100_000_000 + n:010d}"
    return body + str(juminhyo_code_check_digit(body))


def write_faulty_fixed(
    path: Path, tenant: str, population: int, seed: int, *, today: date
) -> FaultyFile:
    mapping = load_mapping(FIXED_MAPPING)
    gen = CityGenerator(tenant, population, seed, today=today)
    out = FaultyFile(path, good_rows=0)
    row = 0
    last: dict[str, str] = {}
    with path.open("wb") as fh:
        writer = Writer(fh, mapping)
        for h, household in enumerate(gen.households(), 1):
            for person in household:
                row += 1
                rec = dict(person)
                rec["atena_number"] = legacy_atena(ATENA_BASE + row)
                rec["household_number"] = make_atena_number(HOUSEHOLD_BASE + h, 10)
                rec["full_name"] = f"{rec['family_name']}\u3000{rec['given_name']}"
                kana = f"{rec['family_name_kana']}\u3000{rec['given_name_kana']}"
                if row % 3 == 0:
                    kana = halfwidth(kana)
                    out.halfwidth_rows.append(row)
                rec["full_name_kana"] = kana
                rec["sex"] = {"1": "M", "2": "F"}.get(rec["sex"], rec["sex"])  # vendor codes
                writer.write(rec)
                last = rec
        out.good_rows = row
        h = 90_000

        def fault(kind: str, **changes: str) -> None:
            nonlocal row, h
            row += 1
            h += 1
            rec = dict(last)
            rec.update(
                zokugara="世帯主",
                atena_number=legacy_atena(ATENA_BASE + 50_000 + row),
                household_number=make_atena_number(h, 10),
                juminhyo_code=_juminhyo(row),
                my_number="",
                support_start="",
                support_end="",
            )
            rec.update(changes)
            writer.write(rec)
            out.faults.setdefault(kind, []).append(row)

        bad = legacy_atena(ATENA_BASE + 60_000)
        fault("atena.check_digit", atena_number=bad[:-1] + str((int(bad[-1]) + 1) % 10))
        twice = legacy_atena(ATENA_BASE + 60_001)
        fault("atena.duplicate", atena_number=twice, full_name="高橋\u3000健")
        fault("atena.duplicate", atena_number=twice, full_name="田中\u3000誠")
        fault("atena.used", atena_number=legacy_atena(1))
        home = make_atena_number(60_002, 10)
        fault("household.check_digit", household_number=home[:-1] + str((int(home[-1]) + 1) % 10))
        fault("name.no_space", full_name="佐藤花子")
        fault("name.empty_part", full_name="山田\u3000")
        fault("kana.no_space", full_name_kana="ｻﾄｳﾊﾅｺ")
        fault("gaiji.adobe_ivs", full_name="渡\ue003\u3000結衣")
        fault("gaiji.not_mj", full_name="\ue004田\u3000結衣")
    out.total = row
    return out
