"""Use cases of the screens on persons leaving the register: 転出, 転出確定, 死亡 and 職権消除.

The persons are the ones picked on the screen; the dispatch refuses an empty pick before these run.
"""

from __future__ import annotations

from kikan.residents import service
from kikan.residents.domain import Reason, RegisterError
from kikan.residents.web.entry.kinds import Kind
from kikan.residents.web.entry.values import UseCase, Values, form_other_address


def move_out(kind: Kind, v: Values) -> UseCase:
    dest = form_other_address(v, "dest")
    if dest is None:
        raise RegisterError("dest.required", "転出先住所を入力してください。", "転出先住所")
    return lambda uow, ctx: service.plan_move_out(
        uow,
        ctx,
        service.PlanMoveOut(
            atena_numbers=v.picked,
            destination=dest,
            planned_date=v.get("planned_date"),
            notified_date=v.get("notified_date"),
        ),
    )


def move_out_confirm(kind: Kind, v: Values) -> UseCase:
    return lambda uow, ctx: service.confirm_move_out(
        uow, ctx, service.ConfirmMoveOut(atena_numbers=v.picked, moved_date=v.get("moved_date"))
    )


def death(kind: Kind, v: Values) -> UseCase:
    notified = v.get("notified_date") or None
    return lambda uow, ctx: service.record_death(
        uow,
        ctx,
        service.RecordDeath(
            atena_number=v.picked[0], death_date=v.get("death_date"), notified_date=notified
        ),
    )


def ex_officio_removal(kind: Kind, v: Values) -> UseCase:
    reason = Reason(v.get("reason") or kind.reasons[0])
    notified = v.get("notified_date") or None
    return lambda uow, ctx: service.remove_ex_officio(
        uow,
        ctx,
        service.RemoveExOfficio(
            atena_numbers=v.picked,
            removal_date=v.get("removal_date"),
            reason=reason,
            notified_date=notified,
            note=v.get("note"),
        ),
    )
