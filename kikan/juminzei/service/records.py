"""個人住民税: the tenant's profile, who lived here on the 賦課期日, and the income records
(給与支払報告書・公的年金等支払報告書 as CSV, 申告 as entry) matched to 宛名.

Every input row is accounted for: a file is refused whole only when it cannot be read as the
layout (no row taken), otherwise each row is accepted (matched, or on the worklist) or rejected
with its Japanese reasons, and the batch keeps the counts.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from kikan.errors import ConflictError, InvalidError, NotFoundError
from kikan.juminzei import calc, casebuild, domain
from kikan.juminzei.service.commands import (
    Assign,
    BatchQuery,
    FileReturn,
    Forward,
    GetProfile,
    IncomeQuery,
    ListBatches,
    LoadIncome,
    SetProfile,
    TakeKijitsu,
    Worklist,
)
from kikan.juminzei.service.common import log
from kikan.juminzei.store import (
    BatchRow,
    IncomeRow,
    KijitsuRow,
    KijitsuRunRow,
    ProfileRow,
    RejectRow,
)
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork

#: residents on a day: 住民状態 住民 / 転出予定 (kikan/standard/data/codes/resident_status.toml)
RESIDENT_STATUSES = ("10", "11")
#: rows written per flush while loading a file
CHUNK = 1000


# ---------------------------------------------------------------- profile


@dataclass(frozen=True)
class ProfileView:
    profile: dict[str, Any]
    due_dates: tuple[str, ...]
    configured: bool


def _profile_row(uow: UnitOfWork) -> ProfileRow | None:
    return uow.session.scalars(select(ProfileRow)).first()


def municipality(uow: UnitOfWork) -> tuple[calc.MunicipalityProfile, tuple[str, ...]]:
    """The calculation's profile and the 納期 of this tenant (the defaults until one is set)."""
    row = _profile_row(uow)
    if row is None:
        return calc.MunicipalityProfile(), ()
    return calc.MunicipalityProfile.model_validate(row.profile), tuple(row.due_dates)


def set_profile(uow: UnitOfWork, ctx: Context, command: SetProfile) -> ProfileView:
    profile = calc.parse_municipality(dict(command.profile))
    due = domain.check_due_dates(command.due_dates) if command.due_dates else ()
    row = _profile_row(uow)
    if row is None:
        row = ProfileRow(tenant_code=uow.tenant, profile={}, due_dates=[], updated_by="")
        uow.session.add(row)
    row.profile = profile.model_dump(mode="json")
    row.due_dates = list(due)
    row.updated_by = ctx.actor.id
    log(
        uow,
        ctx,
        "juminzei.audit.profile",
        "config",
        category="config",
        profile=row.profile,
        due_dates=row.due_dates,
    )
    return ProfileView(row.profile, due, True)


def get_profile(uow: UnitOfWork, ctx: Context, query: GetProfile) -> ProfileView:
    row = _profile_row(uow)
    if row is None:
        return ProfileView(calc.MunicipalityProfile().model_dump(mode="json"), (), False)
    return ProfileView(dict(row.profile), tuple(row.due_dates), True)


# ---------------------------------------------------------------- 賦課期日


@dataclass(frozen=True)
class KijitsuView:
    fiscal_year: int
    kijitsu: str
    persons: int
    rematched: int


def _record_text(record: Mapping[str, str], *keys: str) -> str:
    return "".join(str(record.get(k) or "") for k in keys)


def take_kijitsu(uow: UnitOfWork, ctx: Context, command: TakeKijitsu) -> KijitsuView:
    """Replace the 年度's 賦課期日 list with the register as it stood on 1月1日, then match the
    year's unmatched income records against it."""
    year = domain.check_fiscal_year(command.fiscal_year)
    uow.session.execute(delete(KijitsuRow).where(KijitsuRow.fiscal_year == year))
    uow.session.execute(delete(KijitsuRunRow).where(KijitsuRunRow.fiscal_year == year))
    persons = 0
    for record in command.records:
        if str(record.get("status") or "") not in RESIDENT_STATUSES:
            continue
        name = _record_text(record, "family_name") + "　" + _record_text(record, "given_name")
        kana = (
            _record_text(record, "family_name_kana") + " " + _record_text(record, "given_name_kana")
        )
        birth = domain.iso_birth(str(record.get("birth_date") or ""))
        address = _record_text(record, "prefecture", "city", "town", "banchi")
        uow.session.add(
            KijitsuRow(
                tenant_code=uow.tenant,
                fiscal_year=year,
                atena_number=str(record["atena_number"]),
                name=name.strip("　")[:200],
                kana=kana.strip()[:200],
                birth_date=birth,
                sex=str(record.get("sex") or "")[:1],
                address=address[:400],
                household=str(record.get("household_number") or "")[:20],
                protected=str(record.get("support_measure") or "") == "1",
                match_key=domain.match_key(name, birth)[:240],
                kana_key=domain.kana_key(kana.strip(), birth)[:240],
            )
        )
        persons += 1
        if persons % CHUNK == 0:
            uow.session.flush()  # bounded memory on a whole city's register
    uow.session.add(
        KijitsuRunRow(
            tenant_code=uow.tenant,
            fiscal_year=year,
            kijitsu=domain.kijitsu(year),
            persons=persons,
            taken_by=ctx.actor.id,
        )
    )
    uow.session.flush()  # the list is queried by the re-matching below
    rematched = _rematch(uow, year)
    log(
        uow,
        ctx,
        "juminzei.audit.kijitsu",
        "batch.update",
        fiscal_year=year,
        persons=persons,
        rematched=rematched,
    )
    return KijitsuView(year, domain.kijitsu(year).isoformat(), persons, rematched)


def _kijitsu_taken(uow: UnitOfWork, year: int) -> bool:
    return (
        uow.session.scalar(select(KijitsuRunRow.id).where(KijitsuRunRow.fiscal_year == year))
        is not None
    )


def _find(uow: UnitOfWork, year: int, person: Mapping[str, str]) -> tuple[str, str]:
    """(宛名番号, note): the one 賦課期日 resident with this 氏名 and 生年月日 (or 読み and
    生年月日); ("", why) when none or several."""
    birth = person.get("birth_date", "")
    if not birth:
        return "", "生年月日がないため照合できません"
    for column, key in (
        (KijitsuRow.match_key, domain.match_key(person.get("name", ""), birth)),
        (KijitsuRow.kana_key, domain.kana_key(person.get("kana", ""), birth)),
    ):
        if not key:
            continue
        found = list(
            uow.session.scalars(
                select(KijitsuRow.atena_number)
                .where(KijitsuRow.fiscal_year == year, column == key)
                .limit(3)
            )
        )
        if len(found) == 1:
            return found[0], ""
        if len(found) > 1:
            return "", "同じ氏名・生年月日の住民が複数います"
    return "", "賦課期日（1月1日）の住民に該当者がいません"


def _rematch(uow: UnitOfWork, year: int) -> int:
    matched = 0
    rows = uow.session.scalars(
        select(IncomeRow).where(
            IncomeRow.fiscal_year == year,
            IncomeRow.match_state == domain.UNMATCHED,
            IncomeRow.active.is_(True),
        )
    )
    for row in rows:
        number, note = _find(uow, year, row.person)
        if number:
            row.atena_number, row.match_state, row.match_note = number, domain.MATCHED, ""
            matched += 1
        else:
            row.match_note = note
    return matched


# ---------------------------------------------------------------- intake


@dataclass(frozen=True)
class RejectView:
    row_no: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class BatchView:
    id: int
    fiscal_year: int
    kind: str
    filename: str
    rows: int
    accepted: int
    rejected: int
    matched: int
    unmatched: int
    rejects: tuple[RejectView, ...]


def _decode(content: bytes) -> str:
    """UTF-8 (with or without BOM) or Shift_JIS (cp932, what spreadsheet software writes)."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise domain.IntakeError(
        "juminzei.encoding", "ファイルの文字コードが読めません（UTF-8 または Shift_JIS）。"
    )


def _batch_view(uow: UnitOfWork, batch: BatchRow) -> BatchView:
    rejects = uow.session.scalars(
        select(RejectRow).where(RejectRow.batch_id == batch.id).order_by(RejectRow.row_no)
    )
    return BatchView(
        batch.id,
        batch.fiscal_year,
        batch.kind,
        batch.filename,
        batch.rows,
        batch.accepted,
        batch.rejected,
        batch.matched,
        batch.unmatched,
        tuple(RejectView(r.row_no, tuple(r.reasons)) for r in rejects),
    )


def load_income(uow: UnitOfWork, ctx: Context, command: LoadIncome) -> BatchView:
    """One file of income records for a 年度: refused whole when unreadable (nothing written);
    otherwise every row accepted or rejected with its reasons, in one transaction."""
    year = domain.check_fiscal_year(command.fiscal_year)
    lay = domain.layout(command.kind)
    digest = hashlib.sha256(command.content).hexdigest()
    same = uow.session.scalar(
        select(BatchRow.id).where(
            BatchRow.fiscal_year == year, BatchRow.kind == command.kind, BatchRow.digest == digest
        )
    )
    if same is not None:
        raise ConflictError(
            "juminzei.same_file",
            f"同じファイルは取込済みです（取込番号 {same}）。"
            "訂正は訂正区分 1 の行で送ってください。",
        )
    reader = csv.reader(io.StringIO(_decode(command.content)))
    try:
        header = next(reader)
    except StopIteration:
        raise domain.IntakeError("juminzei.empty", "ファイルが空です。") from None
    positions = domain.check_header(lay, header)
    kijitsu_taken = _kijitsu_taken(uow, year)
    batch = BatchRow(
        tenant_code=uow.tenant,
        fiscal_year=year,
        kind=command.kind,
        filename=command.filename[:200],
        digest=digest,
        rows=0,
        accepted=0,
        rejected=0,
        matched=0,
        unmatched=0,
        created_by=ctx.actor.id,
    )
    uow.session.add(batch)
    uow.session.flush()  # the batch id goes on every row
    seen: dict[str, int] = {}
    for row_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line is not a record
        batch.rows += 1
        _take_row(
            uow,
            ctx,
            batch,
            cells,
            lay=lay,
            positions=positions,
            row_no=row_no,
            seen=seen,
            kijitsu_taken=kijitsu_taken,
        )
        if batch.rows % CHUNK == 0:
            uow.session.flush()  # bounded memory on a large file
    if batch.rows == 0:
        raise domain.IntakeError("juminzei.empty", "ファイルに明細の行がありません。")
    uow.session.flush()  # the counts are read back for the view and the audit record
    subjects = sorted(
        set(
            uow.session.scalars(
                select(IncomeRow.atena_number).where(
                    IncomeRow.batch_id == batch.id, IncomeRow.atena_number != ""
                )
            )
        )
    )
    log(
        uow,
        ctx,
        "juminzei.audit.intake",
        "batch.update",
        subjects=subjects,
        batch=batch.id,
        kind=command.kind,
        rows=batch.rows,
        accepted=batch.accepted,
        rejected=batch.rejected,
        unmatched=batch.unmatched,
    )
    return _batch_view(uow, batch)


def _take_row(
    uow: UnitOfWork,
    ctx: Context,
    batch: BatchRow,
    cells: Sequence[str],
    *,
    lay: domain.Layout,
    positions: Mapping[str, int],
    row_no: int,
    seen: dict[str, int],
    kijitsu_taken: bool,
) -> None:
    """One row: rejected with its reasons, or accepted and matched (or put on the worklist)."""
    year, kind = batch.fiscal_year, batch.kind
    try:
        parsed = domain.parse_row(lay, positions, cells)
        _check_duplicate(uow, parsed, year=year, kind=kind, seen=seen)
    except InvalidError as exc:
        reasons = list(exc.extra.get("reasons") or [exc.message])
        uow.session.add(
            RejectRow(tenant_code=uow.tenant, batch_id=batch.id, row_no=row_no, reasons=reasons)
        )
        batch.rejected += 1
        return
    row = _income_row(uow, ctx, parsed, year=year, kind=kind, batch_id=batch.id, row_no=row_no)
    if parsed.correction:
        _supersede(uow, year, kind, parsed.dup_key, row)
    if kijitsu_taken:
        number, note = _find(uow, year, parsed.person)
    else:
        number, note = "", "賦課期日の住民一覧が未作成です（kikan juminzei kijitsu）"
    row.atena_number = number
    row.match_state = domain.MATCHED if number else domain.UNMATCHED
    row.match_note = note
    uow.session.add(row)
    seen[parsed.dup_key] = row_no
    batch.accepted += 1
    batch.matched += bool(number)
    batch.unmatched += not number


def _check_duplicate(
    uow: UnitOfWork,
    parsed: domain.ParsedRow,
    *,
    year: int,
    kind: str,
    seen: Mapping[str, int],
) -> None:
    if parsed.dup_key in seen and not parsed.correction:
        raise InvalidError(
            "juminzei.duplicate",
            "同じ提出義務者・同じ人の報告書がこのファイルの"
            f" {seen[parsed.dup_key]} 行目にもあります",
        )
    if parsed.correction:
        return
    earlier = uow.session.scalar(
        select(IncomeRow.id).where(
            IncomeRow.fiscal_year == year,
            IncomeRow.kind == kind,
            IncomeRow.dup_key == parsed.dup_key[:300],
            IncomeRow.active.is_(True),
        )
    )
    if earlier is not None:
        raise InvalidError(
            "juminzei.duplicate",
            "同じ提出義務者から同じ人の報告書が既に取り込まれています"
            "（訂正の場合は訂正区分を 1 にしてください）",
        )


def _income_row(
    uow: UnitOfWork,
    ctx: Context,
    parsed: domain.ParsedRow,
    *,
    year: int,
    kind: str,
    batch_id: int | None,
    row_no: int,
) -> IncomeRow:
    return IncomeRow(
        tenant_code=uow.tenant,
        fiscal_year=year,
        kind=kind,
        batch_id=batch_id,
        row_no=row_no,
        payer_key=parsed.payer_key,
        payer_name=parsed.payer_name,
        person=parsed.person,
        dup_key=parsed.dup_key[:300],
        figures=parsed.figures,
        atena_number="",
        match_state=domain.UNMATCHED,
        match_note="",
        active=True,
        created_by=ctx.actor.id,
    )


def _supersede(uow: UnitOfWork, year: int, kind: str, dup_key: str, row: IncomeRow) -> None:
    """A 訂正 replaces the record in force from the same payer for the same person (which stays,
    inactive, for the history); the corrected record keeps its match."""
    earlier = uow.session.scalars(
        select(IncomeRow).where(
            IncomeRow.fiscal_year == year,
            IncomeRow.kind == kind,
            IncomeRow.dup_key == dup_key[:300],
            IncomeRow.active.is_(True),
        )
    ).first()
    if earlier is None:
        return
    earlier.active = False
    uow.session.flush()  # the earlier id is the new row's `supersedes`
    row.supersedes = earlier.id


def list_batches(uow: UnitOfWork, ctx: Context, query: ListBatches) -> list[BatchView]:
    rows = uow.session.scalars(
        select(BatchRow).where(BatchRow.fiscal_year == query.fiscal_year).order_by(BatchRow.id)
    )
    return [_batch_view(uow, b) for b in rows]


def get_batch(uow: UnitOfWork, ctx: Context, query: BatchQuery) -> BatchView:
    batch = uow.session.get(BatchRow, query.batch_id)
    if batch is None or batch.tenant_code != uow.tenant:
        raise NotFoundError("juminzei.batch", "指定された取込はありません。")
    return _batch_view(uow, batch)


# ---------------------------------------------------------------- the worklist


@dataclass(frozen=True)
class IncomeView:
    id: int
    fiscal_year: int
    kind: str
    payer_key: str
    payer_name: str
    name: str
    kana: str
    birth_date: str
    address: str
    atena_number: str
    match_state: str
    match_note: str
    active: bool
    figures: dict[str, Any]


def income_view(row: IncomeRow) -> IncomeView:
    p = row.person
    return IncomeView(
        row.id,
        row.fiscal_year,
        row.kind,
        row.payer_key,
        row.payer_name,
        p.get("name", ""),
        p.get("kana", ""),
        p.get("birth_date", ""),
        p.get("address", ""),
        row.atena_number,
        row.match_state,
        row.match_note,
        row.active,
        dict(row.figures),
    )


def worklist(uow: UnitOfWork, ctx: Context, query: Worklist) -> list[IncomeView]:
    """The year's income records no person was found for: staff match, number or forward them."""
    rows = list(
        uow.session.scalars(
            select(IncomeRow)
            .where(
                IncomeRow.fiscal_year == query.fiscal_year,
                IncomeRow.match_state == domain.UNMATCHED,
                IncomeRow.active.is_(True),
            )
            .order_by(IncomeRow.id)
            .limit(query.limit)
        )
    )
    log(
        uow,
        ctx,
        "juminzei.audit.read",
        "inquiry",
        fiscal_year=query.fiscal_year,
        worklist=len(rows),
    )
    return [income_view(r) for r in rows]


def get_income(uow: UnitOfWork, ctx: Context, query: IncomeQuery) -> IncomeView:
    row = uow.session.get(IncomeRow, query.income_id)
    if row is None or row.tenant_code != uow.tenant:
        raise NotFoundError("juminzei.income", "指定された課税資料はありません。")
    return income_view(row)


def _open_income(uow: UnitOfWork, income_id: int) -> IncomeRow:
    row = uow.session.get(IncomeRow, income_id)
    if row is None or row.tenant_code != uow.tenant:
        raise NotFoundError("juminzei.income", "指定された課税資料はありません。")
    if not row.active:
        raise ConflictError(
            "juminzei.superseded",
            "この課税資料は訂正されています（訂正後の資料を照合してください）。",
        )
    if row.match_state == domain.FORWARDED:
        raise ConflictError("juminzei.forwarded", "この課税資料は回送済みです。")
    return row


def on_kijitsu(uow: UnitOfWork, year: int, atena_number: str) -> KijitsuRow | None:
    return uow.session.scalars(
        select(KijitsuRow).where(
            KijitsuRow.fiscal_year == year, KijitsuRow.atena_number == atena_number
        )
    ).first()


def _taxable_number(uow: UnitOfWork, year: int, atena_number: str, jutogai: bool) -> str:
    if jutogai or on_kijitsu(uow, year, atena_number) is not None:
        return domain.JUTOGAI if jutogai else domain.MATCHED
    raise ConflictError(
        "juminzei.not_resident_on_kijitsu",
        f"宛名番号 {atena_number} の人は賦課期日（{year}年1月1日）にこの団体の住民ではありません"
        "（住登外課税なら宛名管理で住登外者として照合し、他団体の課税なら回送してください）。",
    )


def assign(uow: UnitOfWork, ctx: Context, command: Assign) -> IncomeView:
    row = _open_income(uow, command.income_id)
    state = _taxable_number(uow, row.fiscal_year, command.atena_number, command.jutogai)
    row.atena_number, row.match_state = command.atena_number, state
    row.match_note = "職員が照合" if state == domain.MATCHED else "住登外者（宛名管理で確認）"
    log(
        uow,
        ctx,
        "juminzei.audit.match",
        "change.modify",
        subjects=[command.atena_number],
        income=row.id,
        state=state,
    )
    return income_view(row)


def forward(uow: UnitOfWork, ctx: Context, command: Forward) -> IncomeView:
    row = _open_income(uow, command.income_id)
    if not command.note.strip():
        raise InvalidError(
            "juminzei.forward_note", "回送先（市区町村名など）を入力してください。", "note"
        )
    row.match_state, row.match_note = domain.FORWARDED, f"回送: {command.note.strip()}"[:400]
    row.atena_number = ""
    log(uow, ctx, "juminzei.audit.match", "change.modify", income=row.id, state=domain.FORWARDED)
    return income_view(row)


# ---------------------------------------------------------------- 申告


def file_return(uow: UnitOfWork, ctx: Context, command: FileReturn) -> IncomeView:
    """A 申告 (the figures of calc's TaxCase the person declares: other incomes, deductions,
    family, credits). A later one is a 修正申告: it supersedes the earlier."""
    year = domain.check_fiscal_year(command.fiscal_year)
    state = _taxable_number(uow, year, command.atena_number, command.jutogai)
    casebuild.check_return(command.figures)
    earlier = uow.session.scalars(
        select(IncomeRow).where(
            IncomeRow.fiscal_year == year,
            IncomeRow.kind == domain.SHINKOKU,
            IncomeRow.atena_number == command.atena_number,
            IncomeRow.active.is_(True),
        )
    ).first()
    number = uow.session.scalar(
        select(func.count(IncomeRow.id)).where(
            IncomeRow.fiscal_year == year,
            IncomeRow.kind == domain.SHINKOKU,
            IncomeRow.atena_number == command.atena_number,
        )
    )
    person = on_kijitsu(uow, year, command.atena_number)
    row = IncomeRow(
        tenant_code=uow.tenant,
        fiscal_year=year,
        kind=domain.SHINKOKU,
        batch_id=None,
        row_no=int(number or 0) + 1,
        payer_key="",
        payer_name="申告",
        person={
            "name": person.name if person else "",
            "kana": person.kana if person else "",
            "birth_date": person.birth_date if person else "",
            "address": "",
        },
        dup_key=f"shinkoku|{command.atena_number}",
        figures=dict(command.figures),
        atena_number=command.atena_number,
        match_state=state,
        match_note="修正申告" if earlier else "申告",
        active=True,
        created_by=ctx.actor.id,
    )
    if earlier is not None:
        earlier.active = False
        uow.session.flush()  # the earlier id is the new row's `supersedes`
        row.supersedes = earlier.id
    uow.session.add(row)
    uow.session.flush()  # the id is returned and audited
    log(
        uow,
        ctx,
        "juminzei.audit.return",
        "change.add",
        subjects=[command.atena_number],
        income=row.id,
        amended=earlier is not None,
    )
    return income_view(row)


def income_of(uow: UnitOfWork, year: int, atena_number: str) -> list[IncomeRow]:
    """The records in force for one taxpayer (the assessment's sources)."""
    return list(
        uow.session.scalars(
            select(IncomeRow)
            .where(
                IncomeRow.fiscal_year == year,
                IncomeRow.atena_number == atena_number,
                IncomeRow.active.is_(True),
                IncomeRow.match_state.in_((domain.MATCHED, domain.JUTOGAI)),
            )
            .order_by(IncomeRow.id)
        )
    )
