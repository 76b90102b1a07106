"""名寄せ: the worklist of candidate pairs, linking, 名寄せ解除, 代表宛名 and the 名寄せ履歴.

Rules kept here (the issue and 共通機能標準仕様書 住登外者宛名番号管理):

* Linking never renumbers: only 名寄せ先宛名番号 and 代表宛名フラグ of the members move.
* A pair is linked automatically only when the 個人番号 matches and all four basic attributes
  agree (`matching.Verdict.AUTO_LINK`); every other plausible pair waits on the worklist.
* The 代表宛名 is chosen explicitly by whoever links (an automatic link keeps the resident, or
  the older number); it can be changed later, as an event of its own.
* 名寄せ解除 writes back exactly the state before the event, and only while nothing later has
  changed the same persons (undo the later event first): the 名寄せ履歴 stays a true story.
* Two staff deciding the same pair at once: the decision is a conditional update of the pair's
  row, so one wins and the other gets a 409.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, cast, or_, select, update

from kikan.atena import domain, matching
from kikan.atena.service import search
from kikan.atena.service.common import (
    current_state,
    facts_of_state,
    identity,
    log,
    protected_numbers,
    source_of,
)
from kikan.atena.store import RESIDENT, CandidateRow, IdentityRow, NayoseEventRow
from kikan.errors import ConflictError, InvalidError, NotFoundError, StaleError
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.uow import UnitOfWork

OPEN, LINKED, DISMISSED, SUPERSEDED = "open", "linked", "dismissed", "superseded"


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _evidence(assessment: matching.Assessment) -> list[dict[str, Any]]:
    return [
        {"attribute": e.attribute, "label": e.label, "agreement": e.agreement.value,
         "points": e.points}
        for e in assessment.evidence
    ]  # fmt: skip


# ---------------------------------------------------------------- finding pairs


def offer_pairs(
    uow: UnitOfWork,
    ctx: Context,
    atena_number: str,
    candidates: Iterable[search.Candidate],
) -> list[str]:
    """Put the plausible pairs of one person on the worklist, linking automatically those the
    rules allow; returns one label per consequence (for sync reports)."""
    labels: list[str] = []
    group = search.group_of(uow, atena_number)
    rules = matching.default_rules()
    for cand in candidates:
        if cand.atena_number in group:
            continue
        if (
            cand.assessment.verdict is matching.Verdict.AUTO_LINK
            and not _linked(uow, cand.atena_number)
            and not _linked(uow, atena_number)
        ):
            representative = _default_representative(uow, atena_number, cand.atena_number)
            event = _link(uow, ctx.actor, atena_number, cand.atena_number, representative,
                          action="auto_link", reason=cand.assessment.reason)  # fmt: skip
            _close_pairs(uow, ctx, search.group_of(uow, atena_number), event.id, decided=None)
            group = search.group_of(uow, atena_number)
            labels.append("自動名寄せ")
            continue
        a, b = _pair(atena_number, cand.atena_number)
        row = uow.session.scalars(
            select(CandidateRow).where(CandidateRow.atena_a == a, CandidateRow.atena_b == b)
        ).first()
        if row is None:
            uow.session.add(
                CandidateRow(
                    tenant_code=uow.tenant,
                    atena_a=a,
                    atena_b=b,
                    score=cand.score,
                    verdict=cand.assessment.verdict.value,
                    reason=cand.assessment.reason[:200],
                    evidence=_evidence(cand.assessment),
                    rules_version=rules.version,
                    status=OPEN,
                    version=1,
                )
            )
            labels.append("名寄せ候補")
        elif row.status == OPEN and (row.score, row.reason) != (cand.score, cand.assessment.reason):
            row.score, row.reason = cand.score, cand.assessment.reason[:200]
            row.evidence, row.rules_version = _evidence(cand.assessment), rules.version
            row.version += 1
    return labels


def _linked(uow: UnitOfWork, atena_number: str) -> bool:
    return bool(
        uow.session.scalars(
            select(IdentityRow.nayose_target).where(IdentityRow.atena_number == atena_number)
        ).first()
    )


def _default_representative(uow: UnitOfWork, a: str, b: str) -> str:
    """For an automatic link: the resident if one is, else the older (lower) number."""
    for number in sorted((a, b)):
        if source_of(uow, number) == RESIDENT:
            return number
    return min(a, b)


# ---------------------------------------------------------------- linking


def _members(uow: UnitOfWork, atena_numbers: Iterable[str]) -> list[IdentityRow]:
    """Identity rows of these persons and of everyone already linked with them, locked."""
    numbers = set(atena_numbers)
    targets = {
        t
        for t in uow.session.scalars(
            select(IdentityRow.nayose_target).where(IdentityRow.atena_number.in_(numbers))
        )
        if t
    }
    condition: ColumnElement[bool] = IdentityRow.atena_number.in_(numbers)
    if targets:
        condition = or_(condition, IdentityRow.nayose_target.in_(targets))
    rows = list(
        uow.session.scalars(
            select(IdentityRow)
            .where(condition)
            .order_by(IdentityRow.atena_number)
            .with_for_update()
        )
    )
    have = {r.atena_number for r in rows}
    for number in sorted(numbers - have):
        rows.append(identity(uow, number, source_of(uow, number) or RESIDENT))
    return rows


def _snapshot(rows: Iterable[IdentityRow]) -> dict[str, list[Any]]:
    return {r.atena_number: [r.nayose_target, r.representative] for r in rows}


def _link(
    uow: UnitOfWork,
    actor: audit.Actor,
    a: str,
    b: str,
    representative: str,
    *,
    action: str,
    reason: str = "",
    candidate_id: int | None = None,
) -> NayoseEventRow:
    members = _members(uow, (a, b))
    numbers = {m.atena_number for m in members}
    if representative not in numbers:
        raise InvalidError(
            "atena.representative",
            "代表宛名は名寄せする宛名番号（またはその名寄せ先）から選んでください。",
            item="代表宛名",
        )
    before = _snapshot(members)
    for m in members:
        m.nayose_target = representative
        m.representative = m.atena_number == representative
        m.version += 1
    event = NayoseEventRow(
        tenant_code=uow.tenant,
        action=action,
        atena_a=a,
        atena_b=b,
        representative=representative,
        before=before,
        after=_snapshot(members),
        candidate_id=candidate_id,
        reason=reason[:400],
        operator=actor.id[:64],
        at=utcnow(),
    )
    uow.session.add(event)
    uow.session.flush()  # the event's id goes into the access log and the answer
    log(uow, actor, "atena.audit.nayose", action, subjects=sorted(numbers),
        detail={"event": event.id, "representative": representative})  # fmt: skip
    return event


def _close_pairs(
    uow: UnitOfWork, ctx: Context, group: set[str], event_id: int, decided: int | None
) -> None:
    """Open pairs inside one linked group are settled by the link (superseded)."""
    rows = uow.session.scalars(
        select(CandidateRow).where(
            CandidateRow.status == OPEN,
            CandidateRow.atena_a.in_(sorted(group)),
            CandidateRow.atena_b.in_(sorted(group)),
        )
    )
    for row in rows:
        if row.id == decided:
            continue
        row.status, row.decided_at, row.decided_by = SUPERSEDED, utcnow(), ctx.actor.id[:64]
        row.note = f"名寄せ（履歴 {event_id}）で同一人として処理済み"
        row.version += 1


@dataclass(frozen=True)
class LinkPair:
    candidate_id: int
    version: int
    representative: str
    note: str = ""


@dataclass(frozen=True)
class DecidedPair:
    candidate_id: int
    status: str
    event_id: int | None
    representative: str | None


def _decide(
    uow: UnitOfWork, ctx: Context, candidate_id: int, version: int, *, status: str, note: str
) -> CandidateRow:
    row = uow.session.get(CandidateRow, candidate_id)
    if row is None:
        raise NotFoundError("not-found", "名寄せ候補が見つかりません。")
    if row.status != OPEN:
        raise ConflictError("already-decided", "この名寄せ候補は既に処理されています。")
    if row.version != version:
        raise StaleError("stale-version", "名寄せ候補が更新されています。再読み込みしてください。")
    result = uow.session.execute(
        update(CandidateRow)
        .where(
            CandidateRow.id == candidate_id,
            CandidateRow.status == OPEN,
            CandidateRow.version == version,
        )
        .values(
            status=status,
            version=CandidateRow.version + 1,
            decided_by=ctx.actor.id[:64],
            decided_at=utcnow(),
            note=note[:400],
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        uow.session.expire(row)
        if row.status != OPEN:
            raise ConflictError("already-decided", "この名寄せ候補は既に処理されています。")
        raise StaleError("stale-version", "名寄せ候補が更新されています。再読み込みしてください。")
    uow.session.expire(row)
    return row


def link_pair(uow: UnitOfWork, ctx: Context, command: LinkPair) -> DecidedPair:
    """Staff decide that the pair is one person, naming the 代表宛名."""
    row = _decide(uow, ctx, command.candidate_id, command.version, status=LINKED, note=command.note)
    event = _link(uow, ctx.actor, row.atena_a, row.atena_b, command.representative,
                  action="link", reason=command.note, candidate_id=row.id)  # fmt: skip
    _close_pairs(uow, ctx, search.group_of(uow, row.atena_a), event.id, decided=row.id)
    return DecidedPair(row.id, LINKED, event.id, command.representative)


@dataclass(frozen=True)
class DismissPair:
    candidate_id: int
    version: int
    note: str = ""


def dismiss_pair(uow: UnitOfWork, ctx: Context, command: DismissPair) -> DecidedPair:
    """Staff decide that the pair is two persons (the pair is not offered again)."""
    row = _decide(
        uow, ctx, command.candidate_id, command.version, status=DISMISSED, note=command.note
    )
    log(uow, ctx.actor, "atena.audit.nayose", "dismiss", subjects=[row.atena_a, row.atena_b],
        detail={"candidate": row.id})  # fmt: skip
    return DecidedPair(row.id, DISMISSED, None, None)


@dataclass(frozen=True)
class UndoLink:
    event_id: int
    reason: str


def undo_link(uow: UnitOfWork, ctx: Context, command: UndoLink) -> int:
    """名寄せ解除: restore the state before one link; returns the new event's id."""
    if not command.reason.strip():
        raise InvalidError("atena.reason", "解除の理由を入力してください。", item="理由")
    event = uow.session.get(NayoseEventRow, command.event_id, with_for_update=True)
    if event is None or event.action not in ("link", "auto_link", "representative"):
        raise NotFoundError("not-found", "解除できる名寄せ履歴が見つかりません。")
    if event.undone_by is not None:
        raise ConflictError("already-undone", "この名寄せは既に解除されています。")
    members = {
        m.atena_number: m
        for m in uow.session.scalars(
            select(IdentityRow)
            .where(IdentityRow.atena_number.in_(sorted(event.after)))
            .with_for_update()
        )
    }
    for number, (target, rep) in event.after.items():
        m = members.get(number)
        if m is None or m.nayose_target != target or m.representative != rep:
            raise ConflictError(
                "later-nayose",
                "この後に同じ宛名の名寄せが行われています。後の名寄せから解除してください。",
            )
    for number, (target, rep) in event.before.items():
        m = members[number]
        m.nayose_target, m.representative = target, bool(rep)
        m.version += 1
    undo = NayoseEventRow(
        tenant_code=uow.tenant,
        action="unlink",
        atena_a=event.atena_a,
        atena_b=event.atena_b,
        representative=event.representative,
        before=event.after,
        after=event.before,
        undoes=event.id,
        reason=command.reason[:400],
        operator=ctx.actor.id[:64],
        at=utcnow(),
    )
    uow.session.add(undo)
    uow.session.flush()  # the undo's id is written on the event it undoes
    event.undone_by = undo.id
    if event.candidate_id is not None:
        pair = uow.session.get(CandidateRow, event.candidate_id)
        if pair is not None:
            pair.status, pair.note = (
                DISMISSED,
                f"名寄せ解除（履歴 {undo.id}）: {command.reason}"[:400],
            )
            pair.version += 1
    log(uow, ctx.actor, "atena.audit.nayose", "unlink", subjects=sorted(event.after),
        detail={"event": undo.id, "undoes": event.id})  # fmt: skip
    return undo.id


@dataclass(frozen=True)
class ChooseRepresentative:
    atena_number: str
    reason: str = ""


def choose_representative(uow: UnitOfWork, ctx: Context, command: ChooseRepresentative) -> int:
    """Make one member of a linked group its 代表宛名 (an event of its own)."""
    ident = uow.session.scalars(
        select(IdentityRow).where(IdentityRow.atena_number == command.atena_number)
    ).first()
    if ident is None or not ident.nayose_target:
        raise ConflictError("not-linked", "名寄せされていない宛名番号です。")
    if ident.representative:
        raise ConflictError("already-representative", "既に代表宛名です。")
    members = _members(uow, [command.atena_number])
    before = _snapshot(members)
    for m in members:
        m.nayose_target = command.atena_number
        m.representative = m.atena_number == command.atena_number
        m.version += 1
    event = NayoseEventRow(
        tenant_code=uow.tenant,
        action="representative",
        atena_a=command.atena_number,
        atena_b=command.atena_number,
        representative=command.atena_number,
        before=before,
        after=_snapshot(members),
        reason=command.reason[:400],
        operator=ctx.actor.id[:64],
        at=utcnow(),
    )
    uow.session.add(event)
    uow.session.flush()  # the event's id goes into the access log and the answer
    log(uow, ctx.actor, "atena.audit.nayose", "representative",
        subjects=sorted(before), detail={"event": event.id})  # fmt: skip
    return event.id


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Side:
    atena_number: str
    source: str | None
    facts: domain.Facts | None
    protected: bool


@dataclass(frozen=True)
class WorkItem:
    id: int
    version: int
    score: int
    verdict: str
    reason: str
    evidence: list[dict[str, Any]]
    status: str
    a: Side
    b: Side
    note: str = ""
    created_at: Any = None
    decided_by: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Worklist:
    status: str = OPEN
    limit: int = 100
    offset: int = 0


def _side(uow: UnitOfWork, number: str, protected: set[str]) -> Side:
    state = current_state(uow, number)
    return Side(
        atena_number=number,
        source=source_of(uow, number),
        facts=facts_of_state(state) if state is not None else None,
        protected=number in protected,
    )


def worklist(uow: UnitOfWork, ctx: Context, query: Worklist) -> list[WorkItem]:
    """The pairs waiting for staff (evidence and both sides' current facts side by side)."""
    rows = list(
        uow.session.scalars(
            select(CandidateRow)
            .where(CandidateRow.status == query.status)
            .order_by(CandidateRow.score.desc(), CandidateRow.id)
            .limit(query.limit)
            .offset(query.offset)
        )
    )
    protected = protected_numbers(uow, [n for r in rows for n in (r.atena_a, r.atena_b)])
    items = [
        WorkItem(
            id=r.id, version=r.version, score=r.score, verdict=r.verdict, reason=r.reason,
            evidence=list(r.evidence), status=r.status, a=_side(uow, r.atena_a, protected),
            b=_side(uow, r.atena_b, protected), note=r.note, created_at=r.created_at,
            decided_by=r.decided_by,
        )
        for r in rows
    ]  # fmt: skip
    log(uow, ctx.actor, "atena.audit.read", "read",
        subjects=sorted({n for r in rows for n in (r.atena_a, r.atena_b)}),
        detail={"what": "名寄せ候補一覧", "count": len(rows)})  # fmt: skip
    return items


@dataclass(frozen=True)
class CandidateQuery:
    """One pair of the worklist, by its id."""

    candidate_id: int


def candidate(uow: UnitOfWork, ctx: Context, query: CandidateQuery) -> WorkItem:
    """One pair with its evidence and both sides' current facts (the read is audited)."""
    row = uow.session.get(CandidateRow, query.candidate_id)
    if row is None:
        raise NotFoundError("not-found", "名寄せ候補が見つかりません。")
    protected = protected_numbers(uow, (row.atena_a, row.atena_b))
    log(uow, ctx.actor, "atena.audit.read", "read", subjects=[row.atena_a, row.atena_b],
        detail={"what": "名寄せ候補", "candidate": row.id})  # fmt: skip
    return WorkItem(
        id=row.id, version=row.version, score=row.score, verdict=row.verdict, reason=row.reason,
        evidence=list(row.evidence), status=row.status, a=_side(uow, row.atena_a, protected),
        b=_side(uow, row.atena_b, protected), note=row.note, created_at=row.created_at,
        decided_by=row.decided_by,
    )  # fmt: skip


@dataclass(frozen=True)
class History:
    atena_number: str


def history(uow: UnitOfWork, ctx: Context, query: History) -> Sequence[NayoseEventRow]:
    """名寄せ履歴 of one 宛名番号 (every event whose members included it), oldest first."""
    number = query.atena_number
    # the members are keys of the JSON snapshots: narrowed in SQL on their text, exact here
    touching = or_(
        NayoseEventRow.atena_a == number,
        NayoseEventRow.atena_b == number,
        cast(NayoseEventRow.before, String).contains(number),
        cast(NayoseEventRow.after, String).contains(number),
    )
    rows = [
        e
        for e in uow.session.scalars(
            select(NayoseEventRow).where(touching).order_by(NayoseEventRow.id)
        )
        if number in e.before or number in e.after
    ]
    log(uow, ctx.actor, "atena.audit.read", "read", subjects=[query.atena_number],
        detail={"what": "名寄せ履歴", "count": len(rows)})  # fmt: skip
    return rows
