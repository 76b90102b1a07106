"""`kikan synth` and `kikan import legacy`.

The module's descriptor (`kikan.migration.module`) names `import_app` as "import" and
`synth_command` as "synth"; the `kikan` CLI adds them from the registry. Shared CLI helpers
come from `kikan.platform.console`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from kikan.migration.legacy import MappingError
from kikan.migration.synth import SynthError
from kikan.platform.console import cli_actor, cli_errors, open_db

import_app = typer.Typer(no_args_is_help=True, help="移行データの取込")
out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("cp932-fixed", "utf8-csv")


#: Bad mapping files are bad input (exit 2), like every KikanError (see kikan.platform.console).
_handle = cli_errors(MappingError, SynthError)


class RateColumn(ProgressColumn):
    """Rows per second (rich's own speed column is for bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} 行/秒" if speed else "- 行/秒", style="cyan")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("残り"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        console=err,
    )


def _ensure_tenant(code: str, *, create: bool) -> str:
    from kikan.platform import tenancy
    from kikan.platform.uow import Scope

    tenant = tenancy.check_code(code)
    db = open_db()
    try:
        with db.unit_of_work(Scope.host()) as uow:
            if tenancy.tenant_exists(uow, tenant):
                return tenant
            if not create:
                tenancy.get_tenant(uow, tenant)  # raises the Japanese NotFound
            tenancy.create_tenant(
                uow, cli_actor(), code=tenant, name=f"合成市{tenant}", mayor_name="合成 太郎"
            )
            uow.commit()
            out.print(f"団体 {tenant} 合成市{tenant} を登録しました。")
    finally:
        db.dispose()
    return tenant


def _context() -> Any:
    from kikan.platform.context import Context
    from kikan.platform.crypto import load_keyring
    from kikan.platform.settings import get_settings

    return Context(actor=cli_actor(), keyring=load_keyring(get_settings()))


@import_app.command("legacy")
@_handle
def import_legacy(
    inputs: Annotated[list[Path], typer.Argument(help="旧システムの出力ファイル（複数可）")],
    mapping: Annotated[Path, typer.Option("--mapping", help="対応表（TOML）")],
    tenant: Annotated[str, typer.Option(help="団体コード")],
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="クレンジング報告（HTML・Excel）の出力先")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="検証・変換を並行する子プロセスの数（既定: CPU数、0 で並行しない）", min=0
        ),
    ] = None,
) -> None:
    """旧システムの住民記録を取り込む（バッチごとに確定、中断しても再実行で続きから）。"""
    from kikan.migration.importer import import_file, total_rows
    from kikan.migration.legacy import load_mapping
    from kikan.migration.report import write_reports

    for p in inputs:
        if not p.is_file():
            err.print(f"[red]エラー:[/] 入力ファイル {p} がありません。")
            raise typer.Exit(2)
    code = _ensure_tenant(tenant, create=False)
    m = load_mapping(mapping)
    ctx = _context()
    db = open_db()
    outcomes = []
    try:
        with _progress() as progress:
            task = progress.add_task("取込", total=total_rows(inputs))
            for path in inputs:
                progress.update(task, description=f"取込 {path.name}")
                outcomes.append(
                    import_file(
                        db,
                        code,
                        path,
                        m,
                        ctx=ctx,
                        progress=lambda n: progress.advance(task, n),
                        workers=workers,
                    )
                )
        table = Table(title="取込結果")
        heads = ("ファイル", "行数", "取込", "取込済み", "作業リスト", "不採用", "再開")
        for col in heads:
            table.add_column(col, justify="left" if col in ("ファイル", "再開") else "right")
        for o in outcomes:
            table.add_row(
                o.path.name,
                f"{o.total:,}",
                f"{o.imported:,}",
                f"{o.present:,}",
                f"{o.worklist:,}",
                f"{o.rejected:,}",
                f"済{o.skipped_batches}バッチを飛ばして再開" if o.skipped_batches else "",
            )
        total = sum(o.total for o in outcomes)
        imported = sum(o.imported for o in outcomes)
        present = sum(o.present for o in outcomes)
        worklist = sum(o.worklist for o in outcomes)
        rejected = sum(o.rejected for o in outcomes)
        table.add_row(
            "合計",
            f"{total:,}",
            f"{imported:,}",
            f"{present:,}",
            f"{worklist:,}",
            f"{rejected:,}",
            "",
        )
        out.print(table)
        balanced = imported + present + worklist + rejected == total
        out.print(
            ("[green]✓[/] " if balanced else "[red]✗[/] ")
            + f"全{total:,}行 = 取込{imported:,}行 + 取込済み{present:,}行"
            + f" + 作業リスト{worklist:,}行 + 不採用{rejected:,}行"
            + ("" if balanced else "（一致しません）")
        )
        target = report_dir or Path(f"import-report-{outcomes[0].sha256[:12]}")
        html, xlsx, report = write_reports(
            db, code, [o.sha256 for o in outcomes], target, actor=cli_actor()
        )
        out.print(f"クレンジング報告: {html} / {xlsx}（外字作業リスト {len(report.gaiji)} 文字）")
        if not balanced:
            raise typer.Exit(1)
    finally:
        db.dispose()


@import_app.command("xref")
@_handle
def import_xref(
    tenant: Annotated[str, typer.Option(help="団体コード")],
    legacy: Annotated[str, typer.Option("--legacy", help="旧宛名番号または旧世帯番号で検索")] = "",
    atena: Annotated[str, typer.Option("--atena", help="宛名番号または世帯番号（新）で検索")] = "",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="CSVに出力（指定しなければ画面に表示）")
    ] = None,
) -> None:
    """新旧番号対照表（旧宛名番号・旧世帯番号と新しい番号）を検索・出力する。"""
    from kikan.migration.xref import COLUMNS, find, write_csv

    code = _ensure_tenant(tenant, create=False)
    db = open_db()
    try:
        rows = find(db, code, legacy=legacy, atena=atena, actor=cli_actor())
    finally:
        db.dispose()
    if out_file is not None:
        write_csv(rows, out_file)
        out.print(f"[green]✓[/] 新旧番号対照表 {len(rows):,}件を {out_file} に出力しました。")
        return
    if not rows:
        err.print("[red]エラー:[/] 該当する番号は新旧番号対照表にありません。")
        raise typer.Exit(1)
    table = Table(title="新旧番号対照表")
    for col in COLUMNS:
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(row[c]) for c in COLUMNS))
    out.print(table)


@_handle
def synth_command(
    tenant: Annotated[str, typer.Option(help="団体コード（未登録なら合成市として登録）")],
    population: Annotated[int, typer.Option(help="人口（人数）", min=1)],
    seed: Annotated[int, typer.Option(help="乱数の種（同じ種なら同じ市）")] = 1,
    legacy_out: Annotated[
        Path | None,
        typer.Option("--legacy-out", help="データベースでなく旧システム形式のファイルに出力"),
    ] = None,
    legacy_format: Annotated[
        str, typer.Option("--legacy-format", help="cp932-fixed または utf8-csv")
    ] = "cp932-fixed",
    chunk: Annotated[int, typer.Option(help="1トランザクションの人数", min=1)] = 2000,
    workers: Annotated[
        int | None,
        typer.Option(
            help="検証・変換を並行する子プロセスの数（既定: CPU数、0 で並行しない）", min=0
        ),
    ] = None,
) -> None:
    """合成の市町村（世帯・続柄・外国人住民・外字・不詳日・異動歴・支援措置）を作る。"""
    from kikan.migration.synth import synth_to_db, synth_to_files
    from kikan.platform import tenancy

    if legacy_format not in FORMATS:
        err.print(f"[red]エラー:[/] --legacy-format は {' / '.join(FORMATS)} を指定してください。")
        raise typer.Exit(2)
    with _progress() as progress:
        task = progress.add_task("合成", total=population)
        if legacy_out is not None:
            code = tenancy.check_code(tenant)
            data, mapping = synth_to_files(
                legacy_out,
                code,
                population,
                seed,
                legacy_format=legacy_format,
                today=_context().today,
                progress=lambda n: progress.advance(task, n),
            )
        else:
            code = _ensure_tenant(tenant, create=True)
            db = open_db()
            try:
                added = synth_to_db(
                    db,
                    code,
                    population,
                    seed,
                    ctx=_context(),
                    chunk=chunk,
                    progress=lambda n: progress.advance(task, n),
                    workers=workers,
                )
            finally:
                db.dispose()
    if legacy_out is not None:
        out.print(f"[green]✓[/] {data} と対応表 {mapping} を出力しました（{population:,}人）。")
    else:
        resumed = f"（続きから{added:,}人）" if added != population else ""
        out.print(
            f"[green]✓[/] 団体 {code} に {population:,}人を登録しました（種 {seed}）。{resumed}"
        )


__all__ = ["import_app", "synth_command"]
