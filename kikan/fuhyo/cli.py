"""`kikan fuhyo …` verbs: connect 戸籍の附票 to 庁内データ連携 and pull the 宛名 (the consumer kit's
`connect` and `sync`, ADR 0012), write every 附票 in the standard layout (`export`, for 移行 and
the conformance checker) and show the notices waiting for staff (`worklist`, for a morning job
or a monitoring check: exit code 1 while any wait)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kikan.fuhyo.linkage import CONSUMER
from kikan.fuhyo.service import export, notices
from kikan.linkage.consumer.cli import add_consumer_commands
from kikan.platform import console
from kikan.platform.context import Context

fuhyo_app = typer.Typer(no_args_is_help=True, help="戸籍の附票")
add_consumer_commands(fuhyo_app, CONSUMER, sync_help="宛名を全件・差分で取り込む。")
out = console.out


@fuhyo_app.command(
    "export",
    help="全附票を標準レイアウト（戸籍の附票）の CSV とマニフェストで出力する（一時点の内容）。",
)
@console.cli_errors()
def export_verb(
    tenant: Annotated[str, typer.Option("--tenant", help="団体コード")],
    out_dir: Annotated[Path, typer.Option("--out", help="出力先ディレクトリ")],
) -> None:
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code, snapshot=True) as uow:
            manifest = export.export_standard(
                uow, Context(actor=console.cli_actor()), export.ExportStandard(out_dir)
            )
            uow.commit()
    finally:
        db.dispose()
    for f in manifest.files:
        out.print(f"  {f.path:<12} {f.rows:>10,} 行  sha256 {f.sha256[:16]}…")
    out.print(f"[green]✓[/] {out_dir} に出力しました（manifest.json を含む）。")
    out.print(f"  検査: kikan check --layout fuhyo {out_dir}/*.csv")


@fuhyo_app.command(
    "worklist",
    help="附票記載事項通知のうち職員の確認待ち（該当する記載がないもの）を表示する。"
    "確認待ちがあれば終了コード1。",
)
@console.cli_errors()
def worklist_verb(
    tenant: Annotated[str, typer.Option("--tenant", help="団体コード")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="表示する件数")] = 100,
) -> None:
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            waiting = notices.worklist(
                uow, Context(actor=console.cli_actor()), notices.OpenNotices(limit=limit)
            )
            uow.commit()  # the read is audited
    finally:
        db.dispose()
    if not waiting:
        out.print("確認待ちの通知はありません。")
        return
    shown = f"{len(waiting)}件以上" if len(waiting) >= limit else f"{len(waiting)}件"
    out.print(f"確認待ちの通知: {shown}")
    for n in waiting:
        person = n.payload.get("person", {})
        name = "　".join(v for v in (person.get("family_name"), person.get("given_name")) if v)
        out.print(
            f"  {n.id:>6}  {n.notice_date.isoformat()}  {n.sender_name}（{n.sender_code}）"
            f"  {n.reason}  {name}"
        )
    raise typer.Exit(1)
