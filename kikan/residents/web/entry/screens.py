"""The entry flow's two routes (入力 → 確認 → 登録 → 受理通知) and the form rendering."""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from kikan.platform import tenancy
from kikan.platform.types import Chars
from kikan.platform.uow import Scope, UnitOfWork
from kikan.residents import service
from kikan.residents.domain import (
    RegisterError,
    Snapshot,
)
from kikan.residents.module import FUNCTIONS
from kikan.residents.web.common import WRITE_ROLES, context, run
from kikan.residents.web.entry.card import apply_card, card_facts
from kikan.residents.web.entry.checks import check_values, field_for, labels
from kikan.residents.web.entry.kinds import (
    ADDRESS_FIELDS,
    CORRECT_FIELDS,
    MAX_MEMBERS,
    MEMBER_FIELDS,
    SEX,
    Kind,
    kind_of,
)
from kikan.residents.web.entry.reads import (
    PersonView,
    household_around,
    household_by_number,
    person_view,
)
from kikan.residents.web.entry.summary import confirmation_items
from kikan.residents.web.entry.use_cases import build_use_case
from kikan.residents.web.entry.values import Values, current_values
from kikan.web import shell
from kikan.web.shell import DbDep, FormDep, NavItem, UserDep

router = APIRouter()


NAV = NavItem("転入届", "/ui/residents/entry/move-in", roles=WRITE_ROLES, accesskey="n", order=20)


FOLLOWUPS = Path(__file__).resolve().parent.parent / "followups.toml"


@cache
def followups() -> dict[str, list[dict[str, str]]]:
    """The follow-on procedures per 異動事由 (data, not code: followups.toml)."""
    with FOLLOWUPS.open("rb") as f:
        data = tomllib.load(f)
    return {reason: list(entry["procedures"]) for reason, entry in data["reason"].items()}


def _defaults(db: shell.Database, user: shell.PageUser, kind: Kind, v: Values, today: date) -> None:
    """Today for every date, and the municipality's own prefecture and city for new addresses."""
    for name, _ in kind.dates:
        if name != "notified_date" or kind.slug != "move-out-confirm":
            v.one.setdefault(name, today.isoformat())
    if "address" in kind.parts and user.tenant:
        with db.unit_of_work(Scope.host()) as uow:
            t = tenancy.get_tenant(uow, user.tenant)
        # a new address is in this municipality: its 市区町村コード is the 団体コード
        v.one.setdefault("addr_city_code", user.tenant)
        v.one.setdefault("addr_prefecture", t.prefecture)
        v.one.setdefault("addr_city", t.name)
    if kind.slug == "birth":
        v.one.setdefault("m0_zokugara", "子")
        v.one.setdefault("m0_birth_date", today.isoformat())
    if kind.multi:
        v.one.setdefault("m0_zokugara", "世帯主")
    if kind.reasons:
        v.one.setdefault("reason", kind.reasons[0])


def _form(
    request: Any,
    user: shell.PageUser,
    kind: Kind,
    v: Values,
    *,
    members: list[Snapshot],
    protected: set[str],
    errors: dict[str, str] | None = None,
    summary: str = "",
    status: int = 200,
    card_error: str = "",
    person: PersonView | None = None,
) -> HTMLResponse:
    return shell.render(
        request,
        user,
        "entry.html",
        status=status,
        title=f"{kind.title}（入力）",
        kind=kind,
        v=v,
        members=members,
        protected=protected,
        errors=errors or {},
        summary=summary,
        member_fields=MEMBER_FIELDS,
        address_fields=ADDRESS_FIELDS,
        sex=SEX,
        card_error=card_error,
        max_members=MAX_MEMBERS,
        labels=labels(kind, v),
        person=person,
        correct_fields=CORRECT_FIELDS,
        current=current_values(person.snapshot) if person else {},
    )


@router.get("/residents/entry/{slug}", response_class=HTMLResponse)
def entry_form(
    request: Request,
    slug: Annotated[str, Chars(40)],
    *,
    user: UserDep,
    db: DbDep,
    atena: Annotated[str, Chars(15)] = "",
    household: Annotated[str, Chars(15)] = "",
) -> HTMLResponse:
    kind = kind_of(slug)
    shell.uses(db, user, FUNCTIONS.entry(kind.function))
    ctx = context(request, user)
    v = Values()
    members: list[Snapshot] = []
    protected: set[str] = set()
    person: PersonView | None = None
    if atena and kind.on_person:
        outcome = person_view(db, user, ctx, atena)
        if not outcome.ok:
            return shell.render(
                request,
                user,
                "refused.html",
                status=403 if outcome.suppressed else 404,
                title=kind.title,
                message=outcome.error,
            )
        person = outcome.value
        _load_person(v, person)
    elif atena:
        outcome, members, protected = household_around(db, user, ctx, atena)
        if not outcome.ok:
            return shell.render(
                request,
                user,
                "refused.html",
                status=403 if outcome.suppressed else 404,
                title=kind.title,
                message=outcome.error,
            )
        if members:
            v.one["household"] = members[0].household_number
            if "pick" in kind.parts:
                v.picked = [atena]
            if kind.slug == "ex-officio-entry":
                v.one["join_household"] = members[0].household_number
            if "members" in kind.parts:
                v.one["m0_family_name"] = next(
                    (m.family_name for m in members if m.is_head), members[0].family_name
                )
                v.one["m0_family_name_kana"] = next(
                    (m.family_name_kana for m in members if m.is_head), ""
                )
    elif household:
        members, protected = household_by_number(db, user, ctx, household)
        v.one["household"] = household
    _defaults(db, user, kind, v, ctx.today)
    v.one["timing"] = str(shell.start_timing(db, user, kind.title))
    for m in members:
        v.one.setdefault(f"z_{m.atena_number}", m.zokugara if kind.slug == "head-change" else "")
    return _form(request, user, kind, v, members=members, protected=protected, person=person)


def _load_person(v: Values, person: PersonView) -> None:
    """Pre-fill a person screen: the person, the version it was read at, current values."""
    v.one["person"] = person.snapshot.atena_number
    v.one["version"] = str(person.version)
    for k, value in current_values(person.snapshot).items():
        v.one.setdefault(k, value)
    v.one.setdefault("addr_city_code", person.snapshot.address.city_code)


@router.post("/residents/entry/{slug}", response_class=HTMLResponse)
def entry_submit(  # noqa: PLR0911, PLR0912, PLR0915 - one answer per step of the flow
    request: Request, slug: Annotated[str, Chars(40)], user: UserDep, db: DbDep, form: FormDep
) -> HTMLResponse:
    kind = kind_of(slug)
    shell.uses(db, user, FUNCTIONS.entry(kind.function))
    ctx = context(request, user)
    v = Values.from_form(form)
    action = str(form.get("action", "confirm"))
    members, protected = (
        household_by_number(db, user, ctx, v.get("household"))
        if ("household" in kind.parts)
        else ([], set())
    )
    person: PersonView | None = None
    if kind.on_person and v.get("person"):
        found = person_view(db, user, ctx, v.get("person"))
        if not found.ok:
            v.one.pop("version", None)
            return _form(
                request,
                user,
                kind,
                v,
                members=members,
                protected=protected,
                errors={"person": found.error},
                summary=found.error,
                status=403 if found.suppressed else 422,
            )
        person = found.value
        if action == "back" and not v.get("version"):
            _load_person(v, person)
    if action == "add" and kind.multi:
        v.members = min(v.members + 1, MAX_MEMBERS)
        v.one.setdefault(f"m{v.members - 1}_family_name", v.get("m0_family_name"))
        v.one.setdefault(f"m{v.members - 1}_family_name_kana", v.get("m0_family_name_kana"))
        return _form(request, user, kind, v, members=members, protected=protected, person=person)
    if action.startswith("remove-") and kind.multi and v.members > 1:
        drop = int(action.removeprefix("remove-")) if action[7:].isdigit() else -1
        _remove_member(v, drop)
        return _form(request, user, kind, v, members=members, protected=protected, person=person)
    if action.startswith("card"):
        member = int(action[5:]) if action[5:].isdigit() else 0
        fields = {
            k: str(form.get(f"card_{k}", "")) for k in ("name", "address", "birth_date", "sex")
        }
        try:
            facts = card_facts(str(form.get(f"card_json_{member}", "")), fields)
        except RegisterError as exc:
            return _form(
                request,
                user,
                kind,
                v,
                members=members,
                protected=protected,
                person=person,
                card_error=exc.message,
                status=422,
            )
        apply_card(kind, v, facts, min(member, v.members - 1))
        return _form(request, user, kind, v, members=members, protected=protected, person=person)
    if action == "back":
        return _form(request, user, kind, v, members=members, protected=protected, person=person)

    errors, _ = check_values(kind, v, ctx)
    if errors:
        return _form(
            request,
            user,
            kind,
            v,
            members=members,
            protected=protected,
            person=person,
            errors=errors,
            summary="入力内容に誤りがあります。",
            status=422,
        )
    try:
        use_case = build_use_case(kind, v)
    except RegisterError as exc:
        field_name = field_for(exc.item, kind)
        return _form(
            request,
            user,
            kind,
            v,
            members=members,
            protected=protected,
            person=person,
            errors={field_name: exc.message} if field_name else {},
            summary=exc.message,
            status=422,
        )
    except (ValidationError, ValueError):
        return _form(
            request,
            user,
            kind,
            v,
            members=members,
            protected=protected,
            person=person,
            summary="入力内容が正しくありません。各項目を確かめてください。",
            status=422,
        )

    commit = action == "commit"
    notice: dict[str, Any] = {}

    def after(uow: UnitOfWork, result: service.ChangeResult) -> None:
        if commit and shell.finish_timing(uow, v.get("timing")) is None:
            raise RegisterError(
                "entry.used",
                "この届出は既に登録済みか、画面の有効期限が切れています。"
                "画面を開き直してください。",
            )
        movers = [service.latest(uow, a)[0] for a in result.atena_numbers]
        notice["movers"] = movers

    outcome = run(
        db,
        user,
        ctx,
        function=FUNCTIONS.entry(kind.function),
        fn=use_case,
        commit=commit,
        after=after,
    )
    if not outcome.ok:
        field_name = field_for(outcome.item, kind)
        return _form(
            request,
            user,
            kind,
            v,
            members=members,
            protected=protected,
            person=person,
            errors={field_name: outcome.error} if field_name else {},
            summary=outcome.error,
            status=403 if outcome.suppressed else outcome.status,
        )
    result: service.ChangeResult = outcome.value
    if not commit:
        return shell.render(
            request,
            user,
            "confirm.html",
            title=f"{kind.title}（確認）",
            kind=kind,
            v=v,
            summary=confirmation_items(kind, v, members, person),
            warnings=result.warnings,
            hidden=[(k, val) for k, val in v.one.items()] + [("members", str(v.members))],
            picked=v.picked,
        )
    with db.unit_of_work(Scope.host()) as uow:
        tenant = tenancy.get_tenant(uow, user.scope)
    return shell.render(
        request,
        user,
        "done.html",
        title=f"{kind.title}（完了）",
        kind=kind,
        result=result,
        movers=notice.get("movers", []),
        followups=followups().get(result.reason, []),
        tenant=tenant,
        today=ctx.today,
        notified=v.get("notified_date"),
        certificates_enabled=True,
    )


def _remove_member(v: Values, drop: int) -> None:
    if not 0 <= drop < v.members:
        return
    for i in range(drop, v.members - 1):
        for name in MEMBER_FIELDS:
            v.one[f"m{i}_{name}"] = v.one.get(f"m{i + 1}_{name}", "")
    for name in MEMBER_FIELDS:
        v.one.pop(f"m{v.members - 1}_{name}", None)
    v.members -= 1
