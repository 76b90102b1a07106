"""`kikan atena …` verbs: connect 宛名管理 to 庁内データ連携 and pull the 宛名 (the consumer kit's
`connect` and `sync`, ADR 0012), register 住登外者 in bulk from a CSV file, and write the
団体内統合宛名 file toward the 中間サーバー."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from kikan.atena.linkage import CONSUMER
from kikan.atena.service import bulk, togo
from kikan.linkage.consumer.cli import add_consumer_commands
from kikan.platform import console
from kikan.platform.context import Context
from kikan.platform.crypto import load_keyring
from kikan.platform.settings import get_settings

atena_app = typer.Typer(
    no_args_is_help=True, help="宛名管理（住登外者宛名番号・名寄せ・団体内統合宛名）"
)
add_consumer_commands(
    atena_app,
    CONSUMER,
    sync_help="住民の宛名を全件・差分で取り込み、住民宛名番号の引継ぎと名寄せ候補の作成を行う。",
)
out = console.out


def _context() -> Context:
    return Context(actor=console.cli_actor(), keyring=load_keyring(get_settings()))


@atena_app.command("import", help="住登外者を CSV から一括登録する（全行の結果を報告）。")
@console.cli_errors()
def import_verb(
    path: Annotated[
        Path, typer.Argument(help="CSV（UTF-8 か Shift_JIS、見出しは項目コードか項目名）")
    ],
    tenant: Annotated[str, typer.Option("--tenant", help="団体コード")],
    gyomu: Annotated[
        str, typer.Option("--gyomu", help="業務ID（列がない行に使う業務コード3桁）")
    ] = "",
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="取り込めなかった行と理由の CSV")
    ] = None,
) -> None:
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with Progress(console=console.err, transient=True) as progress:
            task = progress.add_task("住登外者を登録しています", total=None)
            command = bulk.ImportJutogai(
                path, gyomu_id=gyomu, progress=lambda n: progress.update(task, completed=n)
            )
            with db.unit_of_work(code) as uow:
                report = bulk.import_jutogai(uow, _context(), command)
                uow.commit()
    finally:
        db.dispose()
    out.print(
        f"{report.total}行: 新規付番 {len(report.numbered)}件、既存番号で登録 "
        f"{len(report.updated)}件、取り込めなかった行 {len(report.rejected)}件"
    )
    for line, reason in report.rejected[:20]:
        out.print(f"  {line}行目: {reason}")
    if rejects is not None and report.rejected:
        bulk.write_rejects(report, rejects)
        out.print(f"取り込めなかった行を {rejects} に書き出しました。")
    if report.rejected:
        raise typer.Exit(1)


@atena_app.command(
    "togo-export", help="中間サーバー向けの団体内統合宛名ファイルを書き出す（個人番号を含む）。"
)
@console.cli_errors()
def togo_export(
    tenant: Annotated[str, typer.Option("--tenant", help="団体コード")],
    out_path: Annotated[Path, typer.Option("--out", help="出力する CSV ファイル")],
    since: Annotated[
        str | None, typer.Option("--since", help="この日以降に付番した分だけ（YYYY-MM-DD）")
    ] = None,
) -> None:
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            count = togo.export_togo(
                uow,
                _context(),
                togo.ExportTogo(out_path, date.fromisoformat(since) if since else None),
            )
            uow.commit()
    finally:
        db.dispose()
    out.print(f"{count}件を {out_path} に書き出しました（個人番号を含みます。取扱いに注意）。")
