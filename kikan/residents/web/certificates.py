"""証明書発行 screen: choose the certificate, members and items, the requester and purpose,
preview, issue (PDF).

Why a page over `kikan.residents.certificates.issue_certificate` and nothing else: the requester
rules, 支援措置 and 発行抑止 refusals, numbering and the issuance register are the certificate
service's (the API uses the same call); this page only collects the request and shows the answer.
The preview is a summary of the request, not a numbered document: a 発行番号 is only taken when
the certificate is really issued. A refusal (支援措置, 発行抑止) is shown plainly, in its own box,
and is audited by the service.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from kikan.errors import DomainError
from kikan.platform.context import Context
from kikan.platform.errors import KikanError, as_problem
from kikan.platform.types import Chars
from kikan.platform.uow import UnitOfWork
from kikan.residents import service
from kikan.residents.certificates import (
    CertificateRefused,
    CertificateRequest,
    Requester,
    catalogue,
    issue_certificate,
)
from kikan.residents.certificates.rules import PROTECTED_REFUSED, REQUESTER_LABELS
from kikan.residents.domain import Snapshot
from kikan.residents.module import FUNCTIONS
from kikan.residents.web.common import context, run
from kikan.web import shell
from kikan.web.shell import DbDep, FormDep, UserDep

Atena = Annotated[str, Chars(15)]
Short = Annotated[str, Chars(40)]

router = APIRouter()


def _load(
    db: shell.Database, user: shell.PageUser, request: Request, atena: str
) -> tuple[Any, Snapshot | None, list[Snapshot], set[str], bool]:
    """The person (audited 住民照会), the household and who of it is under 支援措置."""
    ctx = context(request, user)

    def fn(uow: UnitOfWork, ctx: Context) -> tuple[Snapshot, list[Snapshot], set[str]]:
        found = service.detail(uow, ctx, service.PersonRef(atena_number=atena))
        members = service.household_members(uow, found.snapshot.household_number)
        if not any(m.atena_number == atena for m in members):
            members = [found.snapshot, *members]
        return (
            found.snapshot,
            members,
            service.protected_among(uow, [m.atena_number for m in members]),
        )

    outcome = run(db, user, ctx, function=FUNCTIONS.entry("residents.certificate_issue"), fn=fn)
    if not outcome.ok:
        return outcome, None, [], set(), False
    snap, members, protected = outcome.value
    return outcome, snap, members, protected, bool(protected)


def _values(form: FormData | None, snap: Snapshot, kind: str) -> dict[str, Any]:
    cat = catalogue()
    if form is None:
        return {
            "kind": kind if kind in cat.kinds else "juminhyo",
            "members": [],
            "items": {code for code, item in cat.items.items() if item.default},
            "requester_kind": "self",
            "requester_name": "",
            "requester_atena": snap.atena_number,
            "purpose": "",
            "power_of_attorney": False,
            "requester_address": "",
        }
    return {
        "kind": str(form.get("kind", "juminhyo")),
        "members": [str(m) for m in form.getlist("members")],
        "items": {str(i) for i in form.getlist("items")},
        "requester_kind": str(form.get("requester_kind", "self")),
        "requester_name": str(form.get("requester_name", "")).strip(),
        "requester_atena": str(form.get("requester_atena", "")).strip(),
        "purpose": str(form.get("purpose", "")).strip(),
        "power_of_attorney": form.get("power_of_attorney") == "1",
        "requester_address": str(form.get("requester_address", "")).strip(),
    }


def _request(atena: str, v: dict[str, Any]) -> CertificateRequest:
    cat = catalogue()
    defaults = {code for code, item in cat.items.items() if item.default}
    return CertificateRequest(
        kind=v["kind"],
        atena_number=atena,
        requester=Requester(
            kind=v["requester_kind"],
            name=v["requester_name"],
            atena_number=v["requester_atena"],
            purpose=v["purpose"],
            power_of_attorney=v["power_of_attorney"],
            address=v["requester_address"],
        ),
        members=v["members"],
        include=sorted(v["items"] - defaults),
        omit=sorted(defaults - v["items"]),
    )


def _page(
    request: Request,
    user: shell.PageUser,
    *,
    snap: Snapshot,
    members: list[Snapshot],
    protected: set[str],
    v: dict[str, Any],
    step: str = "form",
    error: str = "",
    refused: str = "",
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    cat = catalogue()
    return shell.render(
        request,
        user,
        "certificates.html",
        status=status,
        title=f"証明書発行 {snap.full_name}",
        s=snap,
        members=members,
        protected=protected,
        v=v,
        kinds=list(cat.kinds.values()),
        items=list(cat.items.values()),
        requester_labels=REQUESTER_LABELS,
        step=step,
        error=error,
        refused=refused,
        refused_kinds=PROTECTED_REFUSED,
        **extra,
    )


@router.get("/residents/{atena_number}/certificates", response_class=HTMLResponse)
def certificate_form(
    request: Request, atena_number: Atena, user: UserDep, db: DbDep, kind: Short = ""
) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("residents.certificate_issue"))
    outcome, snap, members, protected, _ = _load(db, user, request, atena_number)
    if snap is None:
        return shell.render(
            request,
            user,
            "refused.html",
            status=403 if outcome.suppressed else 404,
            title="証明書発行",
            message=outcome.error,
        )
    return _page(
        request,
        user,
        snap=snap,
        members=members,
        protected=protected,
        v=_values(None, snap, kind),
    )


@router.post("/residents/{atena_number}/certificates", response_class=HTMLResponse)
def certificate_submit(  # noqa: PLR0911 - one answer per step and refusal
    request: Request, atena_number: Atena, user: UserDep, db: DbDep, form: FormDep
) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("residents.certificate_issue"))
    outcome, snap, members, protected, _ = _load(db, user, request, atena_number)
    if snap is None:
        return shell.render(
            request,
            user,
            "refused.html",
            status=403 if outcome.suppressed else 404,
            title="証明書発行",
            message=outcome.error,
        )
    v = _values(form, snap, "")
    action = str(form.get("action", "preview"))
    cat = catalogue()
    if action == "back":
        return _page(
            request,
            user,
            snap=snap,
            members=members,
            protected=protected,
            v=v,
        )
    if action == "preview":
        names = {m.atena_number: m.full_name for m in members}
        chosen = v["members"] or ([snap.atena_number] if v["kind"] != "juminhyo" else list(names))
        kind = cat.kinds.get(v["kind"])
        if kind is None:
            return _page(
                request,
                user,
                snap=snap,
                members=members,
                protected=protected,
                v=v,
                status=422,
                error="証明書の種類を選んでください。",
            )
        warn = ""
        if protected & set(chosen) and v["requester_kind"] in PROTECTED_REFUSED:
            warn = (
                f"支援措置の対象者が含まれています。{REQUESTER_LABELS[v['requester_kind']]}"
                "からの請求には交付できません。"
            )
        return _page(
            request,
            user,
            snap=snap,
            members=members,
            protected=protected,
            v=v,
            step="preview",
            kind_name=kind.name,
            chosen=[names.get(a, a) for a in chosen],
            item_labels=[cat.items[i].label for i in sorted(v["items"]) if i in cat.items],
            warn=warn,
        )
    ctx = context(request, user)
    try:
        issued = issue_certificate(db, user.scope, ctx, _request(atena_number, v))
    except CertificateRefused as exc:
        return _page(
            request,
            user,
            snap=snap,
            members=members,
            protected=protected,
            v=v,
            status=403,
            refused=exc.message,
        )
    except (KikanError, DomainError) as exc:
        message = as_problem(exc).detail
        return _page(
            request,
            user,
            snap=snap,
            members=members,
            protected=protected,
            v=v,
            status=422,
            error=message,
        )
    return _page(
        request,
        user,
        snap=snap,
        members=members,
        protected=protected,
        v=v,
        step="issued",
        issued=issued,
        pdf_href="data:application/pdf;base64," + base64.b64encode(issued.pdf).decode(),
        kind_name=cat.kinds[v["kind"]].name,
    )
