"""戸籍の附票の写し (帳票ID 0040001, forms engine), entered in the shared issuance register.

Never the wrong person: everything printed comes from ONE 附票 read once, locked until commit
(a concurrent notice or 消除 waits or wins entirely), in the caller's unit of work, with no
state shared between requests; the PDF's digest enters the issuance register in the same
transaction. What is left out is decided by `domain.copy_values` only:

* 本籍・筆頭者 and the 在外選挙人 entry unless requested (DOMAIN.md §10);
* 生年月日/男女の別 and 住民票コード of entries removed before those items became 記載事項
  (dates in kikan/fuhyo/data/copy_rules.toml with their source, never in code);
* 支援措置: an entry of a person the feed flags (`support_measure`) refuses a 第三者 or 代理人
  request, as residents' certificates do (spec 3.4); 本人 and 公用 pass.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from kikan.calendar import RegisterDate
from kikan.errors import ConflictError, InvalidError, RefusedError
from kikan.forms import render
from kikan.forms.document import Certification, FormDocument
from kikan.fuhyo import domain
from kikan.fuhyo.service import records
from kikan.fuhyo.store import FuhyoPersonRow
from kikan.platform import issuance, tenancy
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork

FORM_ID = "0040001"
CERTIFICATION_TEXT = "この写しは、戸籍の附票の原本と相違ないことを証明する。"
REQUESTERS = ("self", "agent", "official", "third_party")
#: requester kinds refused when a person under 支援措置 is on the 写し (spec 3.4)
PROTECTED_REFUSED = frozenset({"third_party", "agent"})


@dataclass(frozen=True)
class IssueCopy:
    record_id: int
    options: domain.CopyOptions
    requester_kind: str
    requester_name: str = ""
    purpose: str = ""


@dataclass(frozen=True)
class IssuedCopy:
    pdf: bytes
    issue_number: str
    pages: int
    sha256: str
    items: tuple[str, ...]


def _certifier_title(tenant: tenancy.Tenant) -> str:
    place, title = tenant.name, tenant.mayor_title or "市長"
    office = place + title[1:] if place and title.startswith(place[-1]) else place + title
    return f"{tenant.prefecture}{office}"


def _protected(uow: UnitOfWork, atena_numbers: list[str]) -> set[str]:
    if not atena_numbers:
        return set()
    rows = uow.session.scalars(
        select(FuhyoPersonRow.atena_number).where(
            FuhyoPersonRow.atena_number.in_(atena_numbers), FuhyoPersonRow.protected.is_(True)
        )
    )
    return set(rows)


def issue_copy(uow: UnitOfWork, ctx: Context, command: IssueCopy) -> IssuedCopy:
    if command.requester_kind not in REQUESTERS:
        raise InvalidError(
            "fuhyo.requester_kind",
            "請求者の区分は self・agent・official・third_party のいずれかです。",
            "requester_kind",
        )
    record = records.record_row(uow, command.record_id, for_update=True)
    entries = records.current_entries(uow, record.id)
    if command.options.entries:
        wanted = set(command.options.entries)
        unknown = wanted - {e.entry_no for e in entries}
        if unknown:
            raise InvalidError(
                "fuhyo.entries_unknown", "指定された記載がこの附票にありません。", "entries"
            )
        entries = [e for e in entries if e.entry_no in wanted]
    if not entries:
        raise ConflictError("fuhyo-empty", "この附票には写しに載せる記載がありません。")
    atena = [e.atena_number for e in entries if e.atena_number]
    protected = _protected(uow, atena)
    if protected and command.requester_kind in PROTECTED_REFUSED:
        raise RefusedError(
            "support-measure",
            "支援措置の対象者が含まれるため、この請求者には戸籍の附票の写しを交付できません"
            "（支援措置責任者に確認してください）。",
        )
    tenant = tenancy.get_tenant(uow, uow.tenant)
    if not tenant.mayor_name.strip():
        raise ConflictError(
            "certifier-missing",
            "認証者（市区町村長）の氏名が登録されていないため、証明書を交付できません。",
        )
    rules = domain.copy_rules()
    shown: list[dict[str, str]] = []
    for entry in entries:
        removed_on = entry.removed_on or (record.closed_on if entry.removed else None)
        if record.record_type != domain.FUHYO and removed_on is None:
            removed_on = record.closed_on
        values = domain.copy_values(
            records.facts_of_row(entry),
            removed_on=removed_on,
            options=command.options,
            rules=rules,
        )
        remark = f"消除（{domain.display_date(_storage(removed_on))}）" if entry.removed else ""
        shown.append({**values, "remark": remark})
    honseki = records.honseki_of_row(record)
    issue_number = issuance.next_issue_number(uow, issuance.issue_year())
    check_code = issuance.new_check_code()
    doc = FormDocument(
        header={
            "honseki": honseki.place if command.options.include_honseki else "",
            "hittousha": honseki.head if command.options.include_honseki else "",
            "record_type": record.record_type,
        },
        entries=tuple(shown),
        certification=Certification(
            text=CERTIFICATION_TEXT,
            issue_date=ctx.today,
            certifier_title=_certifier_title(tenant),
            certifier_name=tenant.mayor_name,
            seal_png=tenancy.official_seal_image(uow, uow.tenant),
            notice="" if tenant.has_seal else "公印省略",
        ),
        issue_number=issue_number,
        check_code=check_code,
    )
    result = render(FORM_ID, doc)
    digest = hashlib.sha256(result.pdf).hexdigest()
    items = sorted({k for v in shown for k, text in v.items() if text and k in domain.COPY_ITEMS})
    if command.options.include_honseki:
        items = ["honseki", *items]
    issuance.record(
        uow,
        ctx.actor,
        issue_number=issue_number,
        form_id=FORM_ID,
        module="fuhyo",
        subject_refs=atena or [f"fuhyo:{record.id}"],
        requester_kind=command.requester_kind,
        requester_name=command.requester_name,
        purpose=command.purpose,
        items=[domain.COPY_ITEMS.get(i, "本籍・筆頭者") for i in items],
        pdf_sha256=digest,
        pages=result.pages,
        official_seal=tenant.has_seal,
        check_code=check_code,
    )
    return IssuedCopy(result.pdf, issue_number, result.pages, digest, tuple(items))


def _storage(day: date | None) -> str:
    return RegisterDate.from_date(day).to_storage() if day is not None else ""
