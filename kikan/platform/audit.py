"""The access log (spec 10.2 アクセスログ管理): append-only, hash-chained per tenant.

Every 照会, 帳票発行, 異動, batch run, EUC extraction and denial appends one record. Each record's
hash covers its content and the previous record's hash, so changing, inserting or deleting a record
breaks the chain at that point; the chain head (last sequence number and hash) is kept separately
so records cut from the end are noticed too. `verify_chain` names the first broken record.

What the chain cannot prove on its own: someone with write access to the database who rewrites the
tail *and* the head consistently. Against that, keep the head hash printed by `kikan audit verify`
outside the database (an anchor) and compare it later with `--anchor`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kikan.platform.crypto import redact_my_numbers
from kikan.platform.db import utcnow
from kikan.platform.functions import FunctionLabel
from kikan.platform.functions import text as function_text
from kikan.platform.store import AuditHeadRow, AuditRecordRow
from kikan.platform.uow import Database, Scope, UnitOfWork

#: Categories of spec 10.2 (操作ログ, 認証ログ, イベントログ, 印刷ログ, 設定変更ログ, エラーログ).
CATEGORIES = {
    "operation": "操作ログ",
    "auth": "認証ログ",
    "event": "イベントログ",
    "print": "印刷ログ",
    "config": "設定変更ログ",
    "error": "エラーログ",
}

#: Actions with their spec names (操作ログ ①〜⑨ and the others).
ACTIONS = {
    "inquiry": "照会",
    "print": "帳票発行",
    "change.add": "異動入力（履歴追加）",
    "change.modify": "異動入力（履歴修正）",
    "change.delete": "異動入力（履歴削除）",
    "batch.print": "バッチ処理（帳票作成）",
    "batch.update": "バッチ処理（データ更新）",
    "hardcopy": "画面ハードコピー",
    "euc": "データ抽出（EUC）",
    "login": "ログイン",
    "logout": "ログアウト",
    "denial": "拒否",
    "config": "設定変更",
    "audit.verify": "アクセスログ検証",
}

OUTCOMES = ("ok", "denied", "error")


def genesis_hash(chain: str) -> str:
    """The `prev_hash` of a chain's first record: fixed per chain, so chains cannot be swapped."""
    return hashlib.sha256(f"kikan-audit-genesis:{chain}".encode()).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who did it, from where. `kind` is "staff", "operator", "client" (linkage) or "system"."""

    kind: str
    id: str
    terminal: str = ""
    place: str = ""


SYSTEM_ACTOR = Actor(kind="system", id="kikan")


@dataclass(frozen=True)
class AuditEvent:
    """What happened. Print records put 公印有無, 個人番号出力有無, output format and 発行番号 in
    `detail` under the keys `official_seal`, `mynumber_printed`, `output_format`, `issue_number`.

    `function` is an entry of the 機能ID catalogue (`kikan.platform.functions`); the record
    stores its Japanese label. Plain text remains only for a print record's 帳票 name (data of
    the 帳票ID registry) and for code not yet moved to the catalogue (tests list it).
    """

    category: str
    action: str
    outcome: str = "ok"
    function: FunctionLabel | str = ""
    screen: str = ""
    subjects: Sequence[str] = ()
    purpose: str = ""
    mynumber_accessed: bool = False
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown audit category {self.category!r}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {self.outcome!r}")


def print_event(
    *,
    function: FunctionLabel | str,
    form_id: str,
    issue_number: str,
    subjects: Sequence[str],
    official_seal: bool,
    mynumber_printed: bool,
    output_format: str,
    pages: int,
    purpose: str = "",
    screen: str = "",
) -> AuditEvent:
    """A 印刷ログ record (spec 10.2): 帳票ID, 発行番号, 公印・個人番号の有無, 出力形式, 枚数."""
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {output_format!r}")
    return AuditEvent(
        category="print",
        action="print",
        function=function,
        screen=screen,
        subjects=subjects,
        purpose=purpose,
        mynumber_accessed=mynumber_printed,
        detail={
            "form_id": form_id,
            "issue_number": issue_number,
            "official_seal": official_seal,
            "mynumber_printed": mynumber_printed,
            "output_format": output_format,
            "pages": pages,
        },
    )


#: 出力形式 of print records: プレビュー, 印刷, ファイル出力.
OUTPUT_FORMATS = {"preview": "プレビュー", "print": "印刷", "file": "ファイル出力"}


def _scrub(value: Any) -> Any:
    """Redact My Numbers anywhere in a JSON-like value: the log must never hold one in clear."""
    if isinstance(value, str):
        return redact_my_numbers(value)
    if isinstance(value, Mapping):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_my_numbers(str(value))


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(row: AuditRecordRow) -> str:
    """SHA-256 over a canonical JSON of every stored field except the hash itself."""
    canonical = json.dumps(
        {
            "chain": row.tenant_code,
            "seq": row.seq,
            "recorded_at": _iso(row.recorded_at),
            "category": row.category,
            "action": row.action,
            "outcome": row.outcome,
            "actor": row.actor,
            "actor_kind": row.actor_kind,
            "terminal": row.terminal,
            "place": row.place,
            "function": row.function,
            "screen": row.screen,
            "purpose": row.purpose,
            "subjects": list(row.subjects),
            "mynumber_accessed": bool(row.mynumber_accessed),
            "detail": row.detail,
            "prev_hash": row.prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _locked_head(uow: UnitOfWork) -> AuditHeadRow:
    """The chain head, row-locked for the rest of the transaction.

    Locked once per transaction and then kept in the session: a batch step appending many
    records pays for one lock, not one per record.
    """
    cached = uow.session.info.get("audit_head")
    if isinstance(cached, AuditHeadRow) and cached in uow.session:
        return cached
    stmt = select(AuditHeadRow).where(AuditHeadRow.tenant_code == uow.tenant).with_for_update()
    head = uow.session.scalars(stmt).first()
    if head is not None:
        uow.session.info["audit_head"] = head
        return head
    try:
        with uow.session.begin_nested():
            uow.session.add(
                AuditHeadRow(tenant_code=uow.tenant, last_seq=0, last_hash=genesis_hash(uow.tenant))
            )
    except IntegrityError:
        pass  # created concurrently; lock the winner's row below
    head = uow.session.scalars(stmt).first()
    assert head is not None
    uow.session.info["audit_head"] = head
    return head


def append(uow: UnitOfWork, actor: Actor, event: AuditEvent) -> AuditRecordRow:
    """Append one record to the scope's chain inside the caller's transaction.

    The record commits or rolls back with the work it describes. Locking the head row serialises
    appends per tenant, which keeps `seq` gap-free.
    """
    head = _locked_head(uow)
    now = utcnow()
    row = AuditRecordRow(
        tenant_code=uow.tenant,
        seq=head.last_seq + 1,
        recorded_at=now,
        category=event.category,
        action=event.action,
        outcome=event.outcome,
        actor=_scrub(actor.id)[:100],
        actor_kind=actor.kind,
        terminal=_scrub(actor.terminal)[:200],
        place=_scrub(actor.place)[:100],
        function=_scrub(function_text(event.function))[:100],
        screen=_scrub(event.screen)[:100],
        purpose=_scrub(event.purpose)[:200],
        subjects=[_scrub(s) for s in event.subjects],
        mynumber_accessed=event.mynumber_accessed,
        detail=_scrub(dict(event.detail)),
        prev_hash=head.last_hash,
        hash="",
    )
    row.hash = record_hash(row)
    uow.session.add(row)
    head.last_seq = row.seq
    head.last_hash = row.hash
    return row


def append_now(db: Database, scope: Scope | str, actor: Actor, event: AuditEvent) -> None:
    """Append in a transaction of its own: for denials, which must be kept although the request
    that caused them fails and its own transaction rolls back."""
    with db.unit_of_work(scope) as uow:
        append(uow, actor, event)
        uow.commit()


@dataclass
class VerifyResult:
    chain: str
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None
    kind: str | None = None  # "altered" | "inserted" | "deleted" | "head"


def _ordered_records(uow: UnitOfWork) -> Iterator[AuditRecordRow]:
    stmt = (
        select(AuditRecordRow)
        .where(AuditRecordRow.tenant_code == uow.tenant)
        .order_by(AuditRecordRow.seq)
        .execution_options(yield_per=1000)
    )
    yield from uow.session.scalars(stmt)


def verify_chain(uow: UnitOfWork) -> VerifyResult:
    """Walk the scope's chain in order and report the first altered, inserted or deleted record."""
    chain = uow.tenant
    head = uow.session.scalars(
        select(AuditHeadRow).where(AuditHeadRow.tenant_code == chain)
    ).first()
    head_seq = head.last_seq if head else 0
    head_hash = head.last_hash if head else genesis_hash(chain)
    prev_hash = genesis_hash(chain)
    expected_seq = 1
    checked = 0

    def fail(seq: int, kind: str, problem: str) -> VerifyResult:
        return VerifyResult(chain, False, checked, head_seq, head_hash, seq, problem, kind)

    for row in _ordered_records(uow):
        if row.seq != expected_seq:
            return fail(
                expected_seq,
                "deleted",
                f"連番 {expected_seq} の記録がありません（削除されています）。"
                f"次に見つかった記録は連番 {row.seq} です。",
            )
        if record_hash(row) != row.hash:
            return fail(row.seq, "altered", f"連番 {row.seq} の記録の内容が改ざんされています。")
        if row.prev_hash != prev_hash:
            return fail(
                row.seq,
                "inserted",
                f"連番 {row.seq} の記録は前の記録とつながっていません"
                "（挿入または並べ替えされています）。",
            )
        prev_hash = row.hash
        expected_seq += 1
        checked += 1

    if checked != head_seq or prev_hash != head_hash:
        if checked < head_seq:
            return fail(
                checked + 1,
                "deleted",
                f"連番 {checked + 1} 以降の記録がありません（末尾が削除されています）。"
                f"記録上の最終連番は {head_seq} です。",
            )
        return fail(checked, "head", "ログの末尾が管理情報（チェーンの先頭）と一致しません。")
    return VerifyResult(chain, True, checked, head_seq, head_hash)
