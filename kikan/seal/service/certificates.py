"""印鑑登録証明書: issued from the card, the registration and the replica as read once, and entered
in the shared issuance register in the same transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kikan.errors import ConflictError, InvalidError
from kikan.platform import issuance, tenancy
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork
from kikan.seal import certificate, domain
from kikan.seal.service import commands
from kikan.seal.service.common import add_history, current_person
from kikan.seal.service.registrations import by_card

#: Who presents the card: 本人 or 代理人 (anyone holding the card may ask; the card is the proof).
REQUESTER_KINDS = {"本人": "self", "代理人": "agent"}


@dataclass(frozen=True)
class IssuedCertificate:
    pdf: bytes
    issue_number: str
    pages: int
    sha256: str


def _certifier_title(tenant: tenancy.Tenant) -> str:
    """架空県 + 日和市 + 市長 → 架空県日和市長 (spec 5.6: the title includes the prefecture)."""
    place, title = tenant.name, tenant.mayor_title or "市長"
    office = place + title[1:] if place and title.startswith(place[-1]) else place + title
    return f"{tenant.prefecture}{office}"


def issue_certificate(
    uow: UnitOfWork, ctx: Context, command: commands.IssueCertificate
) -> IssuedCertificate:
    """印鑑登録証明書, only against a presented 印鑑登録証.

    Never the wrong person: everything printed comes from the ONE registration row found by the
    card (read once, locked until commit, so a concurrent 亡失届 or 職権抹消 waits or wins
    entirely), inside the caller's one unit of work, with no state shared between requests; the
    PDF's digest enters the shared issuance register in the same transaction."""
    actor, today, card_number = ctx.actor, ctx.today, command.card_number
    requester_kind, requester_name = command.requester_kind, command.requester_name
    purpose = command.purpose
    if requester_kind not in REQUESTER_KINDS:
        raise InvalidError(
            "seal.requester_kind",
            "請求者の区分は「本人」か「代理人」を指定してください。",
            "requester_kind",
        )
    reg = by_card(uow, card_number, for_update=True)
    person = current_person(uow, reg.atena_number)
    if person is None or not person.is_resident:
        raise ConflictError(
            "seal-not-resident",
            "この方は住民でなくなっているため、印鑑登録証明書は交付できません。",
        )
    tenant = tenancy.get_tenant(uow, uow.tenant)
    if not tenant.mayor_name.strip():
        raise ConflictError(
            "certifier-missing",
            "認証者（市区町村長）の氏名が登録されていないため、証明書を交付できません。",
        )
    issue_number = issuance.next_issue_number(uow, issuance.issue_year())
    check_code = issuance.new_check_code()
    recorded = reg.person
    doc = certificate.document(
        person=recorded,
        impression=reg.image,
        registration_number=reg.registration_number,
        birth_display=domain.birth_display(recorded.get("birth_date", "")),
        address=recorded.get("address", ""),
        issue_number=issue_number,
        check_code=check_code,
        issue_date=today,
        certifier_title=_certifier_title(tenant),
        certifier_name=tenant.mayor_name,
        official_seal_png=tenancy.official_seal_image(uow, uow.tenant),
    )
    result = certificate.render_certificate(doc)
    pdf = result.pdf
    digest = hashlib.sha256(pdf).hexdigest()
    issuance.record(
        uow,
        actor,
        issue_number=issue_number,
        form_id=certificate.FORM_ID,
        module="seal",
        subject_refs=[reg.atena_number],
        requester_kind=REQUESTER_KINDS[requester_kind],
        requester_name=requester_name,
        purpose=purpose,
        items=list(certificate.ITEMS),
        pdf_sha256=digest,
        pages=result.pages,
        official_seal=tenant.has_seal,
        check_code=check_code,
    )
    add_history(uow, reg, "証明書交付", actor.id, issue_number)
    return IssuedCertificate(pdf, issue_number, result.pages, digest)
