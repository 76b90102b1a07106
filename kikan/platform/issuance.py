"""The certificate issuance register (交付履歴) and 発行番号, shared by every issuing module.

Every certificate a module issues (住民票の写し, 印鑑登録証明書 …) takes a 発行番号 from
`next_issue_number` and is recorded with `record` in the same unit of work that read the data it
certifies; the record holds the subjects' references and the SHA-256 of the PDF handed out.
`verify` answers a third party (a bank, a court) who holds a presented certificate: is the number
genuine, of which form, issued when, by which municipality, how many pages, and — given the
digest of an electronic copy — whether that copy is exactly the one issued. It never reveals
who the certificate is about.

発行番号 are sequential, so the number alone proves nothing: verification also needs something
only the holder has — the 照合番号 printed next to the number (`new_check_code`, stored hashed)
or the SHA-256 of the electronic copy. A number with a wrong code gets the same answer as a
number never issued, without the municipality's name. Anonymous checks are counted per day
(`count_verification`), not appended to the hash-chained access log, so callers cannot grow a
tenant's chain; the endpoint rate-limits them per client address.

発行番号 is printed as ``{団体コード}-{西暦年}-{7桁連番}`` (``992011-2026-0000123``): the 団体コード
lets an unauthenticated checker find the tenant, the year restarts the count each calendar year
(JST), and the number comes from a gap-free per-tenant sequence, so a number taken by a
transaction that rolls back is handed out again and the register has no holes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kikan.forms import default_registry
from kikan.platform import audit
from kikan.platform.db import HOST_SCOPE, utcnow
from kikan.platform.errors import Conflict, InvalidInput, NotFound
from kikan.platform.functions import platform_table
from kikan.platform.ids import is_valid_local_government_code
from kikan.platform.sequences import next_value
from kikan.platform.store import (
    CertificateIssuanceRow,
    CertificateVerificationCountRow,
    TenantRow,
)
from kikan.platform.uow import Database, Scope, UnitOfWork

JST = ZoneInfo("Asia/Tokyo")
ISSUE_NUMBER_RE = re.compile(r"^(\d{6})-(\d{4})-(\d{7})$")
SEQUENCE_PREFIX = "certificate_issue:"
REQUESTER_KINDS = {
    "self": "本人・同一世帯員",
    "third_party": "第三者",
    "official": "公用",
    "agent": "代理人",
}
STATUSES = ("issued", "voided")

VerifyStatus = Literal["genuine", "voided", "altered", "unknown", "malformed"]


class IssuanceNotFound(NotFound):
    slug = "issuance-not-found"
    title = "発行番号が見つかりません。"


def issue_year(now: datetime | None = None) -> int:
    """The calendar year (JST) a certificate issued now is numbered in."""
    return (now or utcnow()).astimezone(JST).year


def next_issue_number(uow: UnitOfWork, year: int) -> str:
    """Take the tenant's next 発行番号 of `year`, e.g. ``992011-2026-0000123``.

    Gap-free: the per-tenant, per-year counter row is locked until the caller's transaction ends,
    and a rollback returns the number. Callers take it as late as possible (just before
    rendering) to keep that lock short.
    """
    if uow.scope.is_host or not re.fullmatch(r"\d{6}", uow.tenant):
        raise RuntimeError("発行番号 is taken in a tenant's unit of work")
    if not 1868 <= year <= 9999:
        raise ValueError(f"implausible issue year {year}")
    serial = next_value(uow, f"{SEQUENCE_PREFIX}{year}")
    if serial > 9_999_999:
        raise Conflict("今年の発行番号が上限に達しました。", slug="issue-number-exhausted")
    return f"{uow.tenant}-{year:04d}-{serial:07d}"


#: 照合番号 alphabet: no 0/O, 1/I/L, so a code read off paper is typed back unambiguously
CHECK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CHECK_CODE_LENGTH = 10


def new_check_code() -> str:
    """A random 照合番号 (``ABCDE-FGHJK``, ~49 bits) to print next to the 発行番号."""
    raw = "".join(secrets.choice(CHECK_CODE_ALPHABET) for _ in range(CHECK_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_check_code(code: str) -> str:
    """What a checker typed, as stored: full-width folded, case and separators ignored."""
    folded = unicodedata.normalize("NFKC", code).upper()
    return "".join(ch for ch in folded if ch.isalnum())


def check_code_digest(issue_number: str, code: str) -> str:
    return hashlib.sha256(f"{issue_number}\x00{normalize_check_code(code)}".encode()).hexdigest()


def parse_issue_number(issue_number: str) -> tuple[str, int, int] | None:
    """(団体コード, year, serial) of a well-formed 発行番号 with a valid 団体コード, else None."""
    m = ISSUE_NUMBER_RE.match(issue_number.strip())
    if m is None or not is_valid_local_government_code(m.group(1)):
        return None
    return m.group(1), int(m.group(2)), int(m.group(3))


def _form_name(form_id: str) -> str:
    """The form's name from the forms library's registry (data; no dependency the other way)."""
    entry = default_registry().forms.get(form_id)
    return entry.name if entry is not None else ""


def record(
    uow: UnitOfWork,
    actor: audit.Actor,
    *,
    issue_number: str,
    form_id: str,
    module: str,
    subject_refs: Sequence[str],
    requester_kind: str,
    requester_name: str,
    purpose: str,
    items: Sequence[str],
    pdf_sha256: str,
    pages: int,
    form_name: str | None = None,
    official_seal: bool = True,
    mynumber_printed: bool = False,
    output_format: str = "file",
    check_code: str | None = None,
) -> None:
    """Enter one issued certificate in the register and append its 印刷ログ audit record.

    `check_code` is the 照合番号 printed on the certificate (`new_check_code`); only its digest
    is kept. Without one, the certificate can be verified by its PDF's SHA-256 only.

    Runs in the caller's unit of work, the one that took the number and read the data, so the
    number, the record and the audit record commit together or not at all.
    """
    parsed = parse_issue_number(issue_number)
    if parsed is None or parsed[0] != uow.tenant:
        raise ValueError(f"issue number {issue_number!r} is not one of tenant {uow.tenant}")
    if requester_kind not in REQUESTER_KINDS:
        raise ValueError(f"unknown requester kind {requester_kind!r}")
    if not re.fullmatch(r"[0-9a-f]{64}", pdf_sha256):
        raise ValueError("pdf_sha256 must be 64 lowercase hex digits")
    if pages < 1:
        raise ValueError("a certificate has at least one page")
    if not subject_refs:
        raise ValueError("a certificate certifies someone")
    name = form_name if form_name is not None else _form_name(form_id)
    row = CertificateIssuanceRow(
        tenant_code=uow.tenant,
        issue_number=issue_number,
        form_id=form_id,
        form_name=name[:100],
        module=module,
        subject_refs=list(subject_refs),
        requester_kind=requester_kind,
        requester_name=requester_name[:200],
        purpose=purpose[:400],
        items=list(items),
        pdf_sha256=pdf_sha256,
        pages=pages,
        issued_at=utcnow(),
        issued_by=f"{actor.kind}:{actor.id}"[:100],
        terminal=actor.terminal[:200],
        place=actor.place[:100],
        status="issued",
        check_code_hash=check_code_digest(issue_number, check_code) if check_code else None,
    )
    uow.session.add(row)
    # the issue number (unique) is checked now, before the print is audited
    uow.session.flush()
    event = audit.print_event(
        function=name or form_id,
        form_id=form_id,
        issue_number=issue_number,
        subjects=list(subject_refs),
        official_seal=official_seal,
        mynumber_printed=mynumber_printed,
        output_format=output_format,
        pages=pages,
        purpose=purpose,
    )
    detail = dict(event.detail)
    detail.update(
        {
            "module": module,
            "requester_kind": requester_kind,
            "items": list(items),
            "pdf_sha256": pdf_sha256,
        }
    )
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category=event.category,
            action=event.action,
            function=event.function,
            subjects=event.subjects,
            purpose=event.purpose,
            mynumber_accessed=event.mynumber_accessed,
            detail=detail,
        ),
    )


@dataclass(frozen=True)
class Issuance:
    """A register entry as staff see it (交付履歴照会)."""

    issue_number: str
    form_id: str
    form_name: str
    module: str
    subject_refs: tuple[str, ...]
    requester_kind: str
    requester_name: str
    purpose: str
    items: tuple[str, ...]
    pdf_sha256: str
    pages: int
    issued_at: datetime
    issued_by: str
    status: str
    terminal: str = ""
    place: str = ""
    void_reason: str = ""

    @classmethod
    def of(cls, row: CertificateIssuanceRow) -> Issuance:
        return cls(
            issue_number=row.issue_number,
            form_id=row.form_id,
            form_name=row.form_name,
            module=row.module,
            subject_refs=tuple(row.subject_refs),
            requester_kind=row.requester_kind,
            requester_name=row.requester_name,
            purpose=row.purpose,
            items=tuple(row.items),
            pdf_sha256=row.pdf_sha256,
            pages=row.pages,
            issued_at=row.issued_at,
            issued_by=row.issued_by,
            status=row.status,
            terminal=row.terminal,
            place=row.place,
            void_reason=row.void_reason,
        )


def get(uow: UnitOfWork, issue_number: str) -> Issuance | None:
    row = uow.session.scalars(
        select(CertificateIssuanceRow).where(CertificateIssuanceRow.issue_number == issue_number)
    ).first()
    return Issuance.of(row) if row is not None else None


def issued_for(uow: UnitOfWork, subject_ref: str, *, limit: int = 500) -> list[Issuance]:
    """The register entries that certify `subject_ref`, newest first (交付履歴 of a person).

    The JSON list is matched as text (``"ref"`` with its quotes, the same on SQLite and
    PostgreSQL) and then checked exactly, so a reference that is part of another never matches.
    """
    needle = f'%"{subject_ref}"%'
    rows = uow.session.scalars(
        select(CertificateIssuanceRow)
        .where(cast(CertificateIssuanceRow.subject_refs, String).like(needle))
        .order_by(CertificateIssuanceRow.id.desc())
        .limit(limit)
    )
    return [Issuance.of(r) for r in rows if subject_ref in r.subject_refs]


def void(uow: UnitOfWork, actor: audit.Actor, issue_number: str, reason: str) -> Issuance:
    """Mark an issued certificate void (誤交付・汚損による再発行): verification then says so."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("無効にする理由を入力してください。", item="理由")
    row = uow.session.scalars(
        select(CertificateIssuanceRow)
        .where(CertificateIssuanceRow.issue_number == issue_number)
        .with_for_update()
    ).first()
    if row is None:
        raise IssuanceNotFound("指定された発行番号の交付記録はありません。", item="発行番号")
    if row.status == "voided":
        raise Conflict("この発行番号の証明書は既に無効です。", slug="issuance-voided")
    row.status = "voided"
    row.voided_at = utcnow()
    row.void_reason = reason[:200]
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="operation",
            action="change.modify",
            function=platform_table().entry("platform.certificate_invalidate"),
            subjects=list(row.subject_refs),
            detail={"issue_number": issue_number, "reason": reason[:200]},
        ),
    )
    return Issuance.of(row)


@dataclass(frozen=True)
class VerifyResult:
    """The answer to "is this certificate genuine?" — deliberately without any personal data."""

    issue_number: str
    status: VerifyStatus
    genuine: bool
    message: str
    tenant_code: str | None = None
    tenant_name: str | None = None
    form_id: str | None = None
    form_name: str | None = None
    issue_date: date | None = None
    pages: int | None = None
    sha256_checked: bool = False
    sha256_matches: bool | None = None


def _lookup(uow: UnitOfWork, issue_number: str) -> CertificateIssuanceRow | None:
    return uow.session.scalars(
        select(CertificateIssuanceRow).where(CertificateIssuanceRow.issue_number == issue_number)
    ).first()


UNKNOWN_MESSAGE = (
    "この発行番号と照合番号（または電子ファイル）の組み合わせに一致する交付記録はありません。"
)


def verify(
    db_or_uow: Database | UnitOfWork,
    issue_number: str,
    sha256: str | None = None,
    check_code: str | None = None,
) -> VerifyResult:
    """Check a presented certificate's 発行番号 with its 照合番号 and/or its PDF's SHA-256.

    With a `Database`, the tenant is taken from the number's 団体コード and a unit of work of its
    own is opened; with a `UnitOfWork`, the number must belong to that unit's tenant. Malformed
    input, unknown municipalities, unknown numbers and wrong codes are answers, not errors; the
    last three are the same answer, which names no municipality.
    """
    number = issue_number.strip()
    digest = sha256.strip().lower() if sha256 else None
    code = normalize_check_code(check_code) if check_code else None
    problem = _malformed(number, digest, code)
    if problem is not None:
        return VerifyResult(number, "malformed", False, problem)
    parsed = parse_issue_number(number)
    assert parsed is not None
    tenant_code = parsed[0]
    if isinstance(db_or_uow, UnitOfWork):
        if db_or_uow.tenant != tenant_code:
            return VerifyResult(number, "unknown", False, UNKNOWN_MESSAGE)
        return _verify_in(db_or_uow, number, digest, code)
    with db_or_uow.unit_of_work(Scope(tenant_code)) as uow:
        return _verify_in(uow, number, digest, code)


def _malformed(number: str, digest: str | None, code: str | None) -> str | None:
    """Why the input cannot be checked at all, or None."""
    if digest is not None and not re.fullmatch(r"[0-9a-f]{64}", digest):
        return "SHA-256 は16進数64桁で指定してください。"
    if code is not None and not (
        len(code) == CHECK_CODE_LENGTH and all(ch in CHECK_CODE_ALPHABET for ch in code)
    ):
        return (
            f"照合番号は証明書に印字された{CHECK_CODE_LENGTH}文字"
            "（例: ABCDE-FGHJK）で指定してください。"
        )
    if digest is None and code is None:
        return "証明書に印字された照合番号、または電子ファイルの SHA-256 を指定してください。"
    if parse_issue_number(number) is None:
        return "発行番号の形式が正しくありません（例: 992011-2026-0000123）。"
    return None


def _verify_in(uow: UnitOfWork, number: str, digest: str | None, code: str | None) -> VerifyResult:
    unknown = VerifyResult(number, "unknown", False, UNKNOWN_MESSAGE)
    tenant = uow.session.get(TenantRow, uow.tenant)
    row = _lookup(uow, number) if tenant is not None and tenant.active else None
    if tenant is None or row is None:
        return unknown
    code_ok = (
        code is not None
        and row.check_code_hash is not None
        and hmac.compare_digest(row.check_code_hash, check_code_digest(number, code))
    )
    matches = None if digest is None else hmac.compare_digest(digest, row.pdf_sha256)
    if code is not None and not code_ok:
        return unknown
    if not code_ok and not matches:
        # only the digest was offered, and it is not this number's: as good as a wrong code
        return unknown
    found = VerifyResult(
        number,
        "genuine",
        True,
        "交付した証明書の電子ファイルと一致します。"
        if matches
        else "この発行番号の証明書は交付済みです。記載内容は原本の提示でご確認ください。",
        tenant_code=tenant.code,
        tenant_name=tenant.name,
        form_id=row.form_id,
        form_name=row.form_name,
        issue_date=row.issued_at.astimezone(JST).date(),
        pages=row.pages,
        sha256_checked=digest is not None,
        sha256_matches=matches,
    )
    if row.status == "voided":
        return replace(
            found,
            status="voided",
            genuine=False,
            message="この証明書は交付後に無効とされています。",
        )
    if matches is False:
        return replace(
            found,
            status="altered",
            genuine=False,
            message="照合番号は一致しますが、提示された電子ファイルは交付したものと一致しません。",
        )
    return found


def count_verification(db: Database, issue_number: str, result: VerifyResult) -> None:
    """Count one anonymous verification under the number's tenant (the host for numbers of no
    tenant), per JST day and answer: a summary, so calls do not grow the audit chain."""
    parsed = parse_issue_number(issue_number.strip())
    scope = HOST_SCOPE
    if parsed is not None:
        with db.unit_of_work(Scope.host()) as host:
            if host.session.get(TenantRow, parsed[0]) is not None:
                scope = parsed[0]
    day = utcnow().astimezone(JST).date()
    with db.unit_of_work(scope) as uow:
        insert = pg_insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        stmt = insert(CertificateVerificationCountRow).values(
            tenant_code=scope, day=day, status=result.status, count=1
        )
        uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_code", "day", "status"],
                set_={"count": CertificateVerificationCountRow.count + 1},
            )
        )
        uow.commit()
