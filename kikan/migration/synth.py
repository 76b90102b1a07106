"""`kikan synth`: a deterministic synthetic municipality of any size.

The same seed gives the same city, byte for byte: one `random.Random(seed)` drives a stream of
households, generated one at a time, so memory stays bounded at any population (Yokohama's
3,770,000 included). A household is a list of legacy records (item → text, see
`kikan.migration.records.ITEMS`), which either

- enter the register through the same path as an import (`records.to_member`, then the residents
  bulk API, one transaction per chunk), or
- are written as legacy files (`legacy.Writer`: CP932 fixed-width with vendor 外字, or UTF-8 CSV),
  so that `kikan import legacy` can be tested end to end.

What the city contains: households of realistic sizes (1–7, mean about 2.2) with 続柄 世帯主, 妻/夫,
子, 父/母, 子の妻, 同居人; ages 0–100; about 3% foreign residents with 国籍, 在留資格, 在留期間 and
在留カード番号; rare kanji (𠮷, 髙, 﨑, 齋, 濵) and an IVS name (渡邉 + U+E0110); a few 不詳
birth dates among the elderly; move histories (転入前住所, 転居前住所, 住定日 after 住民日);
個人番号 for most and a 住民票コード for everyone (valid check digits, unique); a few 支援措置.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import select, update

from kikan.calendar import format_era_code
from kikan.migration.legacy import Writer, bundled_mapping, load_mapping
from kikan.migration.parallel import default_workers, ordered_map
from kikan.migration.records import Cleansing, to_member
from kikan.migration.store import SYNTH_MAPPING, ImportBatchRow, ImportFileRow
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.ids import juminhyo_code_check_digit, my_number_check_digit
from kikan.platform.uow import Database
from kikan.residents.bulk import BulkHousehold, BulkMember, PreparedBatch, load_prepared, prepare

FAMILY = [
    ("佐藤", "サトウ", 18),
    ("鈴木", "スズキ", 16),
    ("髙橋", "タカハシ", 6),
    ("高橋", "タカハシ", 9),
    ("田中", "タナカ", 12),
    ("伊藤", "イトウ", 10),
    ("渡辺", "ワタナベ", 8),
    ("渡邉", "ワタナベ", 2),
    ("渡邉\U000e0110", "ワタナベ", 1),
    ("山本", "ヤマモト", 10),
    ("中村", "ナカムラ", 10),
    ("小林", "コバヤシ", 9),
    ("加藤", "カトウ", 8),
    ("吉田", "ヨシダ", 7),
    ("𠮷田", "ヨシダ", 2),
    ("山田", "ヤマダ", 7),
    ("佐々木", "ササキ", 6),
    ("山口", "ヤマグチ", 6),
    ("松本", "マツモト", 6),
    ("井上", "イノウエ", 6),
    ("木村", "キムラ", 5),
    ("林", "ハヤシ", 5),
    ("斎藤", "サイトウ", 4),
    ("齋藤", "サイトウ", 2),
    ("清水", "シミズ", 5),
    ("山崎", "ヤマザキ", 4),
    ("山﨑", "ヤマザキ", 2),
    ("森", "モリ", 4),
    ("池田", "イケダ", 4),
    ("橋本", "ハシモト", 4),
    ("阿部", "アベ", 4),
    ("石川", "イシカワ", 4),
    ("濵田", "ハマダ", 1),
    ("浜田", "ハマダ", 3),
    ("長谷川", "ハセガワ", 3),
    ("草彅", "クサナギ", 1),
    ("栁田", "ヤナギタ", 1),
]
MALE = [
    ("太郎", "タロウ"),
    ("健", "ケン"),
    ("翔", "ショウ"),
    ("大輔", "ダイスケ"),
    ("蓮", "レン"),
    ("陽翔", "ハルト"),
    ("誠", "マコト"),
    ("隆", "タカシ"),
    ("浩二", "コウジ"),
    ("悠真", "ユウマ"),
    ("湊", "ミナト"),
    ("博", "ヒロシ"),
    ("清", "キヨシ"),
    ("茂", "シゲル"),
    ("德治", "トクジ"),
]
FEMALE = [
    ("花子", "ハナコ"),
    ("葵", "アオイ"),
    ("陽菜", "ヒナ"),
    ("美咲", "ミサキ"),
    ("結衣", "ユイ"),
    ("さくら", "サクラ"),
    ("陽子", "ヨウコ"),
    ("恵子", "ケイコ"),
    ("芽依", "メイ"),
    ("凛", "リン"),
    ("和子", "カズコ"),
    ("節子", "セツコ"),
    ("真由美", "マユミ"),
    ("紬", "ツムギ"),
    ("澄江", "スミエ"),
]
#: (国名コード, family kana, given kana, roman family, roman given, 在留資格 weights)
FOREIGN = [
    ("156", "ワン", "ウェイ", "WANG", "WEI"),
    ("156", "リ", "ナ", "LI", "NA"),
    ("410", "キム", "ミンジュン", "KIM", "MINJUN"),
    ("410", "パク", "ソヨン", "PARK", "SOYEON"),
    ("704", "グエン", "ヴァンアン", "NGUYEN", "VAN AN"),
    ("704", "チャン", "ティホア", "TRAN", "THI HOA"),
    ("608", "サントス", "マリア", "SANTOS", "MARIA"),
    ("076", "シルバ", "ルーカス", "SILVA", "LUCAS"),
    ("524", "タパ", "ラジュ", "THAPA", "RAJU"),
    ("840", "スミス", "ジョン", "SMITH", "JOHN"),
]
STATUS = ["210", "210", "403", "601", "601", "215", "401", "219", "602", "604"]
PREFS = [
    ("東京都", "千代田区"),
    ("大阪府", "大阪市北区"),
    ("北海道", "札幌市中央区"),
    ("福岡県", "福岡市博多区"),
    ("愛知県", "名古屋市中区"),
    ("宮城県", "仙台市青葉区"),
]
TOWNS = [
    f"{n}町{c}丁目"
    for n in ("松", "桜", "梅", "若葉", "緑", "旭", "栄", "本")
    for c in "一二三四五"
]
KATAGAKI = ["グランハイツ合成", "コーポ桜", "メゾン松風", "合成団地"]
SIZE_WEIGHTS = [(1, 38), (2, 28), (3, 16), (4, 12), (5, 4), (6, 1.5), (7, 0.5)]
SUPPORT_EVERY = 20_000  # about one 支援措置 per this many persons (at least one per city)


def _pick(rng: random.Random, weighted: list[tuple[str, str, int]]) -> tuple[str, str]:
    total = sum(w for _, _, w in weighted)
    r = rng.random() * total
    for name, kana, w in weighted:
        r -= w
        if r < 0:
            return name, kana
    return weighted[-1][0], weighted[-1][1]


class CityGenerator:
    """Yields households (lists of records) of one synthetic city, deterministically."""

    def __init__(self, tenant: str, population: int, seed: int, *, today: date) -> None:
        self.tenant = tenant
        self.population = population
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.seed = seed
        self.today = today
        self.serial = 0
        self.household_serial = 0
        self.support_left = max(1, population // SUPPORT_EVERY) if population >= 50 else 0
        self._sizes = [s for s, _ in SIZE_WEIGHTS]
        self._weights = [w for _, w in SIZE_WEIGHTS]

    # identifiers: bijections of the serial number, so unique within the city by construction
    def _juminhyo_code(self) -> str:
        body = f"{(self.serial * 7_919 + self.seed * 104_729 + 1_000_000_000) % 10**10:010d}"
        return body + str(juminhyo_code_check_digit(body))

    def _my_number(self) -> str:
        body = f"{(self.serial * 8_191 + self.seed * 15_485_863 + 10**10) % 10**11:011d}"
        return body + str(my_number_check_digit(body))

    def _letters(self, n: int) -> str:
        return "".join(chr(65 + self.rng.randrange(26)) for _ in range(n))

    def _day(self, earliest: date, latest: date) -> date:
        span = (latest - earliest).days
        return earliest + timedelta(days=self.rng.randint(0, max(span, 0)))

    def _born(self, age: int) -> date:
        year_start = date(self.today.year - age - 1, self.today.month, 1) + timedelta(days=1)
        return self._day(year_start, min(year_start + timedelta(days=364), self.today))

    def households(self) -> Iterator[list[dict[str, str]]]:
        while self.serial < self.population:
            size = min(
                self.rng.choices(self._sizes, self._weights)[0], self.population - self.serial
            )
            yield self._household(size)

    def _household(self, size: int) -> list[dict[str, str]]:
        rng = self.rng
        self.household_serial += 1
        key = f"H{self.household_serial:09d}"
        foreign = rng.random() < 0.03
        town_no = rng.randrange(len(TOWNS))
        base = {
            "household_key": key,
            "postal_code": f"999-{1000 + town_no:04d}",
            "town_code": f"{town_no + 1:04d}000",
            "town": TOWNS[town_no],
            "banchi": f"{rng.randint(1, 30)}番{rng.randint(1, 25)}号",
            "katagaki": (
                f"{rng.choice(KATAGAKI)}　{rng.randint(1, 12)}0{rng.randint(1, 9)}号室"
                if rng.random() < 0.3
                else ""
            ),
            "city_code": self.tenant,
        }
        head_age = rng.choices(
            range(20, 100), [1 if a < 30 or a > 85 else 3 for a in range(20, 100)]
        )[0]
        head_male = rng.random() < 0.7
        if foreign:
            nat, fam_kana, _gk, roman_fam, _rg = rng.choice(FOREIGN)
            family = fam_kana
        else:
            family, fam_kana = _pick(rng, FAMILY)
            nat = roman_fam = ""
        moved_in = self._day(self.today - timedelta(days=365 * 40), self.today - timedelta(days=30))
        prior = rng.random() < 0.4
        pref, pcity = rng.choice(PREFS)
        moved_within = rng.random() < 0.2
        roles: list[tuple[str, int, bool]] = [("世帯主", head_age, head_male)]
        if size >= 2:
            spouse_age = max(18, min(99, head_age + rng.randint(-4, 4)))
            roles.append(("妻" if head_male else "夫", spouse_age, not head_male))
        for _ in range(2, size):
            r = rng.random()
            if r < 0.8 or head_age < 45:
                roles.append(
                    ("子", rng.randint(0, max(0, min(head_age - 18, 40))), rng.random() < 0.5)
                )
            elif r < 0.92 and head_age < 75:
                roles.append(
                    (
                        "母" if rng.random() < 0.6 else "父",
                        min(100, head_age + rng.randint(22, 32)),
                        False,
                    )
                )
            elif r < 0.97:
                roles.append(("子の妻", max(18, head_age - rng.randint(22, 30)), False))
            else:
                roles.append(("同居人", rng.randint(18, 80), rng.random() < 0.5))
        if size == 1 and rng.random() < 0.02:
            roles = [("世帯主", head_age, head_male)]
        out: list[dict[str, str]] = []
        for zokugara, age, male in roles:
            out.append(
                self._person(
                    base=base,
                    zokugara=zokugara,
                    age=age,
                    male=male,
                    family=family,
                    fam_kana=fam_kana,
                    foreign=foreign,
                    nat=nat,
                    roman_fam=roman_fam,
                    moved_in=moved_in,
                    prior=(pref, pcity) if prior else None,
                    moved_within=moved_within,
                )
            )  # fmt: skip
        return out

    def _person(
        self,
        *,
        base: dict[str, str],
        zokugara: str,
        age: int,
        male: bool,
        family: str,
        fam_kana: str,
        foreign: bool,
        nat: str,
        roman_fam: str,
        moved_in: date,
        prior: tuple[str, str] | None,
        moved_within: bool,
    ) -> dict[str, str]:
        rng = self.rng
        self.serial += 1
        born = self._born(age)
        rec = dict(base)
        if foreign:
            _n, _fk, given_kana, _rf, roman_given = rng.choice([f for f in FOREIGN if f[0] == nat])
            given = given_kana
            rec.update(
                resident_kind="2",
                nationality=nat,
                roman_name=f"{roman_fam} {roman_given}",
                article_30_45="2" if nat == "410" and rng.random() < 0.3 else "1",
                period_of_stay="3年",
                expiry_date=format_era_code(self.today + timedelta(days=rng.randint(30, 1000))),
                card_number=self._letters(2) + f"{rng.randrange(10**8):08d}" + self._letters(2),
            )
            if rec["article_30_45"] == "1":
                rec["status_of_residence"] = rng.choice(STATUS)
            else:
                rec["period_of_stay"] = ""
                rec["expiry_date"] = ""
        else:
            given, given_kana = rng.choice(MALE if male else FEMALE)
            pref, city = rng.choice(PREFS)
            rec.update(
                resident_kind="1",
                honseki_prefecture=pref,
                honseki_city=city,
                honseki_chiban=f"{rng.randint(1, 999)}番地",
                hittousha_family=family,
                hittousha_given=given if zokugara == "世帯主" else "",
            )
        birth_text = format_era_code(born)
        if age >= 80 and rng.random() < 0.01:
            birth_text = birth_text[:3] + "0000"  # 年のみ判明（月日不詳）
        became = max(moved_in, born)
        rec.update(
            zokugara=zokugara,
            family_name=family,
            given_name=given,
            family_name_kana=fam_kana,
            given_name_kana=given_kana,
            sex="1" if male else "2",
            birth_date=birth_text,
            juminhyo_code=self._juminhyo_code(),
            my_number=self._my_number() if rng.random() < 0.9 else "",
            became_resident_date=format_era_code(became),
            address_set_date=format_era_code(became),
        )
        if prior is not None and became > born:
            rec.update(prior_prefecture=prior[0], prior_city=prior[1], prior_town="一丁目1番1号")
        if moved_within and became > born and became < self.today - timedelta(days=10):
            moved = self._day(became + timedelta(days=1), self.today - timedelta(days=1))
            rec.update(
                address_set_date=format_era_code(moved),
                previous_town=TOWNS[(TOWNS.index(base["town"]) + 1) % len(TOWNS)],
                previous_banchi=f"{rng.randint(1, 30)}番{rng.randint(1, 25)}号",
            )
        if (self.support_left and rng.random() < 1 / SUPPORT_EVERY * 2) or (
            self.support_left and self.serial == self.population
        ):
            self.support_left -= 1
            start = self.today - timedelta(days=rng.randint(1, 300))
            rec.update(
                support_start=format_era_code(start),
                support_end=format_era_code(start + timedelta(days=364)),
            )
        return rec


# ---------------------------------------------------------------- writing a city


def _chunks(gen: CityGenerator, size: int) -> Iterator[list[list[dict[str, str]]]]:
    chunk: list[list[dict[str, str]]] = []
    n = 0
    for hh in gen.households():
        chunk.append(hh)
        n += len(hh)
        if n >= size:
            yield chunk
            chunk, n = [], 0
    if chunk:
        yield chunk


def prepare_chunk(
    tenant: str, ctx: Context, households: list[list[dict[str, str]]]
) -> PreparedBatch:
    """Records → validated members → prepared rows: the pure part of a chunk (worker side).
    Refs number the persons uniquely within the chunk (household i, member j → i*100+j)."""
    clean = Cleansing()
    bulk: list[BulkHousehold] = []
    for i, hh in enumerate(households):
        members: list[BulkMember] = []
        address = None
        for j, rec in enumerate(hh):
            member, addr = to_member(rec, ref=i * 100 + j, today=ctx.today, clean=clean)
            members.append(member)
            address = address or addr
        assert address is not None
        bulk.append(BulkHousehold(address=address, members=members))
    return prepare(ctx, tenant, bulk)


class SynthError(ValueError):
    """A synthetic city cannot be entered (Japanese message, no traceback)."""


def synth_ledger_key(tenant: str, population: int, seed: int) -> str:
    """The ledger identity of a synthetic city (a sha256, like an import file's): the same
    tenant, size and seed is the same city, so a rerun resumes it."""
    return hashlib.sha256(f"synth\0{tenant}\0{population}\0{seed}".encode()).hexdigest()


def _start_ledger(
    db: Database, tenant: str, population: int, seed: int, chunk: int
) -> tuple[str, int, set[int], bool]:
    """Find or open the city's ledger: (key, chunk size, committed chunks, finished)."""
    key = synth_ledger_key(tenant, population, seed)
    with db.unit_of_work(tenant) as uow:
        row = uow.session.get(ImportFileRow, (tenant, key))
        if row is None:
            row = ImportFileRow(
                tenant_code=tenant,
                file_sha256=key,
                name=f"synth seed={seed} population={population}",
                mapping_sha256=SYNTH_MAPPING,
                batch_size=chunk,
                imported=0,
                rejected=0,
                status="running",
                cleansing={},
            )
            uow.session.add(row)
        size, finished = row.batch_size, row.status == "done"
        done = set(
            uow.session.scalars(
                select(ImportBatchRow.batch_no).where(ImportBatchRow.file_sha256 == key)
            )
        )
        uow.commit()
    return key, size, done, finished


def synth_to_db(
    db: Database,
    tenant: str,
    population: int,
    seed: int,
    *,
    ctx: Context,
    chunk: int = 2000,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> int:
    """Enter a synthetic city through the import path (records → bulk API), one transaction
    per chunk, the chunks prepared by `workers` processes (see `kikan.migration.parallel`).

    Resumable like `kikan import legacy`: each chunk's ledger row (`migration_batches`, under
    the city's key `synth_ledger_key`) commits with its persons, so a rerun after a crash
    (SIGKILL included) regenerates the same city, skips the committed chunks and carries on;
    the chunk size of the first run is kept. Returns the number of persons entered by this run.
    """
    key, size, done, finished = _start_ledger(db, tenant, population, seed, chunk)
    tick = progress or (lambda _n: None)
    if finished:
        tick(population)
        return 0
    gen = CityGenerator(tenant, population, seed, today=ctx.today)
    total = 0
    first_of: dict[int, int] = {}

    def todo() -> Iterator[tuple[int, list[list[dict[str, str]]]]]:
        serial = 0
        for number, households in enumerate(_chunks(gen, size), 1):
            first_of[number] = serial + 1
            serial += sum(len(hh) for hh in households)
            if number in done:
                tick(sum(len(hh) for hh in households))
                continue
            yield number, households

    work = partial(_prepare_numbered, tenant, ctx)
    jobs = ordered_map(work, todo(), workers=default_workers() if workers is None else workers)
    for (number, households), prepared in jobs:
        persons = sum(len(hh) for hh in households)
        with db.unit_of_work(tenant) as uow:
            result = load_prepared(
                uow, ctx, prepared, label=f"synth seed={seed} 第{number}チャンク"
            )
            if result.rejected:
                first = result.rejected[0]
                raise SynthError(
                    f"合成の住民を登録できません（{first.message}）。"
                    "同じ団体に別の種や人口で合成した住民がいないか確認してください。"
                )
            uow.session.add(
                ImportBatchRow(
                    tenant_code=tenant,
                    file_sha256=key,
                    batch_no=number,
                    first_row=first_of[number],
                    last_row=first_of[number] + persons - 1,
                    imported=result.loaded,
                    rejected=0,
                    status="committed",
                    committed_at=utcnow(),
                )
            )
            uow.session.execute(
                update(ImportFileRow)
                .where(ImportFileRow.file_sha256 == key)
                .values(imported=ImportFileRow.imported + result.loaded)
            )
            uow.commit()
        total += result.loaded
        tick(result.loaded)
    with db.unit_of_work(tenant) as uow:
        uow.session.execute(
            update(ImportFileRow)
            .where(ImportFileRow.file_sha256 == key)
            .values(status="done", total_rows=population, finished_at=utcnow())
        )
        uow.commit()
    return total


def _prepare_numbered(
    tenant: str, ctx: Context, job: tuple[int, list[list[dict[str, str]]]]
) -> PreparedBatch:
    return prepare_chunk(tenant, ctx, job[1])


def synth_to_files(
    out_dir: Path,
    tenant: str,
    population: int,
    seed: int,
    *,
    legacy_format: str,
    today: date,
    progress: Callable[[int], None] | None = None,
) -> tuple[Path, Path]:
    """Write a synthetic city as a legacy export plus its mapping file; returns both paths."""
    name = {"cp932-fixed": "legacy_cp932_fixed.toml", "utf8-csv": "legacy_utf8_csv.toml"}[
        legacy_format
    ]
    mapping_path = out_dir / "mapping.toml"
    out_dir.mkdir(parents=True, exist_ok=True)
    source = bundled_mapping(name)
    mapping_path.write_bytes(source.read_bytes())
    mapping = load_mapping(mapping_path)
    data_path = out_dir / ("legacy.dat" if mapping.format == "fixed" else "legacy.csv")
    gen = CityGenerator(tenant, population, seed, today=today)
    tick = progress or (lambda _n: None)
    with data_path.open("wb") as fh:
        writer = Writer(fh, mapping)
        for hh in gen.households():
            for rec in hh:
                writer.write(rec)
            tick(len(hh))
    return data_path, mapping_path
