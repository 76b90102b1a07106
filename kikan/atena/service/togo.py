"""団体内統合宛名 (業務コード 032): one 団体内統合宛名番号 per person across residents and
住登外者, both directions of the 宛名番号 ⇄ 統合宛名番号 swap, and the file toward the 中間サーバー.

The number is issued the first time a 個人番号 becomes known (`common.ensure_togo`, keyed by
the blind index: one number per 個人番号, never a second one). The export writes the `togo`
group of the `atena` layout (data; the official IF layout was not available, the layout file
says so) with the 個人番号 decrypted: it is a My Number file, audited as such.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from kikan.atena import domain
from kikan.atena.service.common import log, require_keyring, source_of
from kikan.atena.store import IdentityRow, MyNumberRow, TogoRow
from kikan.errors import ConflictError, NotFoundError
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork
from kikan.standard.layouts import layout


@dataclass(frozen=True)
class TogoOf:
    atena_number: str


def togo_of(uow: UnitOfWork, ctx: Context, query: TogoOf) -> str:
    """宛名番号 → 団体内統合宛名番号 (a linked person's own, else the 代表宛名's)."""
    ident = uow.session.scalars(
        select(IdentityRow).where(IdentityRow.atena_number == query.atena_number)
    ).first()
    number = ident.togo_number if ident is not None else ""
    if not number and ident is not None and ident.nayose_target:
        number = (
            uow.session.scalars(
                select(IdentityRow.togo_number).where(
                    IdentityRow.atena_number == ident.nayose_target
                )
            ).first()
            or ""
        )
    if not number:
        if source_of(uow, query.atena_number) is None:
            raise NotFoundError("not-found", "宛名番号が見つかりません。")
        raise ConflictError(
            "no-togo", "個人番号が登録されていないため、団体内統合宛名番号はありません。"
        )
    log(uow, ctx.actor, "atena.audit.read", "read", subjects=[query.atena_number],
        detail={"what": "団体内統合宛名番号"})  # fmt: skip
    return number


@dataclass(frozen=True)
class AtenasOf:
    togo_number: str


def atenas_of(uow: UnitOfWork, ctx: Context, query: AtenasOf) -> list[str]:
    """団体内統合宛名番号 → the 宛名番号 that carry it."""
    numbers = sorted(
        uow.session.scalars(
            select(IdentityRow.atena_number).where(IdentityRow.togo_number == query.togo_number)
        )
    )
    if not numbers:
        raise NotFoundError("not-found", "団体内統合宛名番号が見つかりません。")
    log(uow, ctx.actor, "atena.audit.read", "read", subjects=numbers,
        detail={"what": "団体内統合宛名番号から宛名番号"})  # fmt: skip
    return numbers


@dataclass(frozen=True)
class ExportTogo:
    out: Path
    since: date | None = None


def _rows(uow: UnitOfWork, ctx: Context, since: date | None) -> Iterator[dict[str, str]]:
    keyring = require_keyring(ctx)
    togos = {t.togo_number: t for t in uow.session.scalars(select(TogoRow))}
    stmt = (
        select(IdentityRow, MyNumberRow)
        .join(MyNumberRow, MyNumberRow.atena_number == IdentityRow.atena_number)
        .where(IdentityRow.togo_number != "")
        .order_by(IdentityRow.togo_number, IdentityRow.atena_number)
    )
    for ident, mn in uow.session.execute(stmt):
        togo = togos.get(ident.togo_number)
        if togo is None or (since is not None and togo.issued_on < since):
            continue
        number = keyring.decrypt_my_number(mn.token, context=uow.tenant)
        yield {
            "togo_number": ident.togo_number,
            "my_number": number.reveal(),
            "atena_number": ident.atena_number,
            "kind": ident.source,
            "issued_on": togo.issued_on.isoformat(),
        }


def export_togo(uow: UnitOfWork, ctx: Context, command: ExportTogo) -> int:
    """Write the 中間サーバー file (UTF-8 CSV, header of the layout's Japanese item names);
    returns the row count. The file is written beside its final name and moved in place."""
    require_keyring(ctx)  # before any file exists: no key, nothing written
    group = layout(domain.LAYOUT).group("togo")
    command.out.parent.mkdir(parents=True, exist_ok=True)
    partial = command.out.with_name(command.out.name + ".partial")
    count = 0
    subjects: list[str] = []
    with partial.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(group.header)
        for row in _rows(uow, ctx, command.since):
            writer.writerow([row[item.code] for item in group.items])
            subjects.append(row["atena_number"])
            count += 1
    partial.replace(command.out)
    command.out.chmod(0o600)
    log(uow, ctx.actor, "atena.audit.togo", "export", subjects=subjects[:1000], mynumber=True,
        detail={"rows": count, "file": command.out.name,
                "since": command.since.isoformat() if command.since else ""})  # fmt: skip
    return count
