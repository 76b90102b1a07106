"""Use cases of the screens on one existing person: 修正 and 異動の取消し, each guarded by the
version the person was read at when the screen opened (someone else's change meanwhile is a 409)."""

from __future__ import annotations

from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork
from kikan.residents import service
from kikan.residents.domain import Reason, RegisterError
from kikan.residents.web.entry.kinds import Kind
from kikan.residents.web.entry.values import UseCase, Values, corrections, form_version


def _atena(v: Values) -> str:
    atena = v.get("person")
    if not atena:
        raise RegisterError("person.none", "宛名番号を入力してください。", "宛名番号")
    return atena


def cancel(kind: Kind, v: Values) -> UseCase:
    atena, version, note = _atena(v), form_version(v), v.get("note")
    if not note:
        raise RegisterError("cancel.reason", "取消しの理由を入力してください。", "備考")
    return lambda uow, ctx: service.cancel_last(
        uow, ctx, service.CancelLast(atena_number=atena, note=note, expected_version=version)
    )


def correct(kind: Kind, v: Values) -> UseCase:
    atena, version, note = _atena(v), form_version(v), v.get("note")
    reason = Reason(v.get("reason") or kind.reasons[0])

    def run(uow: UnitOfWork, ctx: Context) -> service.ChangeResult:
        snap, _ = service.latest(uow, atena)
        return service.correct(
            uow,
            ctx,
            service.Correct(
                atena_number=atena,
                changes=corrections(v, snap),
                reason=reason,
                note=note,
                expected_version=version,
            ),
        )

    return run
