"""`kikan juminzei …` verbs: connect 個人住民税 to 庁内データ連携 (the consumer kit's `connect` and
`sync`, ADR 0012), take the 賦課期日 list, load income files, assess a 年度 and write its notices
(batches with a progress bar, resumable), and `calc` — the engine on one case, no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from kikan.errors import InvalidError
from kikan.juminzei import domain
from kikan.juminzei.calc import MunicipalityProfile, assess, parse_case, parse_municipality
from kikan.juminzei.linkage import CONSUMER, as_of_records
from kikan.juminzei.rules import load_rules, parse_fiscal_year
from kikan.juminzei.service import assessment, notices, records
from kikan.juminzei.service import commands as cmd
from kikan.juminzei.settings import JuminzeiSettings
from kikan.linkage.consumer import LinkageError
from kikan.linkage.consumer.cli import add_consumer_commands
from kikan.platform import console
from kikan.platform.context import Context

juminzei_app = typer.Typer(no_args_is_help=True, help="個人住民税")
add_consumer_commands(juminzei_app, CONSUMER, sync_help="宛名を全件・差分で取り込む。")
out = console.out

Tenant = Annotated[str, typer.Option("--tenant", help="団体コード")]
Year = Annotated[str, typer.Option("--year", help="年度（令和8、R8、2026）")]


def _context() -> Context:
    return Context(actor=console.cli_actor())


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console.err,
        transient=True,
    )


@juminzei_app.command("profile", help="団体の課税設定（JSON: {profile, due_dates}）を登録する。")
@console.cli_errors()
def profile_verb(
    tenant: Tenant,
    path: Annotated[Path, typer.Argument(help="課税設定の JSON ファイル")],
) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            view = records.set_profile(
                uow,
                _context(),
                cmd.SetProfile(data.get("profile") or {}, tuple(data.get("due_dates") or ())),
            )
            uow.commit()
    finally:
        db.dispose()
    out.print(f"課税設定を登録しました: {json.dumps(view.profile, ensure_ascii=False)}")


@juminzei_app.command("kijitsu", help="賦課期日（1月1日）現在の住民を住民記録から取得する。")
@console.cli_errors(LinkageError)
def kijitsu_verb(tenant: Tenant, year: Year) -> None:
    fiscal_year = parse_fiscal_year(year)
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        settings = JuminzeiSettings()
        with _bar() as progress:
            task = progress.add_task("賦課期日の住民記録を読んでいます", total=None)
            rows = []
            for n, record in enumerate(
                as_of_records(
                    db,
                    code,
                    domain.kijitsu(fiscal_year),
                    base_url=settings.linkage_url or None,
                    page_size=settings.page_size,
                ),
                1,
            ):
                rows.append(record)
                if n % 1000 == 0:
                    progress.update(task, completed=n)
        with db.unit_of_work(code) as uow:
            view = records.take_kijitsu(uow, _context(), cmd.TakeKijitsu(fiscal_year, tuple(rows)))
            uow.commit()
    finally:
        db.dispose()
    out.print(
        f"{fiscal_year}年度の賦課期日（{view.kijitsu}）現在の住民 {view.persons} 人を取得しました"
        f"（未照合だった課税資料 {view.rematched} 件を照合）。"
    )


@juminzei_app.command("intake", help="給与支払報告書・公的年金等支払報告書の CSV を取り込む。")
@console.cli_errors()
def intake_verb(
    tenant: Tenant,
    year: Year,
    path: Annotated[Path, typer.Argument(help="CSV（UTF-8 または Shift_JIS、見出し行つき）")],
    kind: Annotated[
        str, typer.Option("--kind", help="kyuyo（給与）/ nenkin（公的年金）")
    ] = "kyuyo",
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="取り込めなかった行の一覧（CSV）の出力先")
    ] = None,
) -> None:
    fiscal_year = parse_fiscal_year(year)
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            view = records.load_income(
                uow, _context(), cmd.LoadIncome(fiscal_year, kind, path.name, path.read_bytes())
            )
            uow.commit()
    finally:
        db.dispose()
    out.print(
        f"取込番号 {view.id}: {view.rows} 行 — 受付 {view.accepted}（照合済み {view.matched}、"
        f"作業一覧 {view.unmatched}）、不備 {view.rejected}"
    )
    for r in view.rejects[:20]:
        out.print(f"  {r.row_no}行目: {'　'.join(r.reasons)}")
    if len(view.rejects) > 20:
        out.print(f"  … ほか {len(view.rejects) - 20} 行")
    if rejects is not None:
        with rejects.open("w", encoding="utf-8-sig", newline="") as f:
            f.write("行番号,理由\n")
            for r in view.rejects:
                reason = "　".join(r.reasons).replace('"', '""')
                f.write(f'{r.row_no},"{reason}"\n')
        out.print(f"不備の一覧: {rejects}")


@juminzei_app.command("assess", help="年度の賦課（当初・更正）を一括で行う。中断しても続きから。")
@console.cli_errors()
def assess_verb(
    tenant: Tenant,
    year: Year,
    chunk: Annotated[int, typer.Option("--chunk", min=1, max=5000, help="1回に確定する人数")] = 500,
) -> None:
    fiscal_year = parse_fiscal_year(year)
    ctx = _context()
    db = console.open_db()
    totals = {"assessed": 0, "corrected": 0, "unchanged": 0}
    errors: list[tuple[str, str]] = []
    try:
        code = console.check_tenant(db, tenant)
        after = ""
        with _bar() as progress:
            task = progress.add_task(f"{fiscal_year}年度の賦課", total=None)
            while True:
                with db.unit_of_work(code) as uow:
                    report = assessment.assess_year(
                        uow, ctx, cmd.AssessYear(fiscal_year, ctx.today, after, chunk)
                    )
                    uow.commit()
                for key in totals:
                    totals[key] += getattr(report, key)
                errors += report.errors
                after = report.last
                progress.update(task, completed=sum(totals.values()) + len(errors))
                if report.done:
                    break
    finally:
        db.dispose()
    out.print(
        f"{fiscal_year}年度: 当初賦課 {totals['assessed']} 人、更正 {totals['corrected']} 人、"
        f"変更なし {totals['unchanged']} 人、賦課できず {len(errors)} 人"
    )
    for number, reason in errors[:20]:
        out.print(f"  {number}: {reason}")
    if errors:
        raise typer.Exit(1)


@juminzei_app.command("notices", help="年度の通知書（PDF）を一括で作成する。中断しても続きから。")
@console.cli_errors()
def notices_verb(
    tenant: Tenant,
    year: Year,
    out_dir: Annotated[Path, typer.Option("--out", help="PDF の出力先フォルダ")],
    run: Annotated[int | None, typer.Option("--run", help="中断した作成の番号（続きから）")] = None,
) -> None:
    fiscal_year = parse_fiscal_year(year)
    ctx = _context()
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            if run is None:
                view = notices.start_notice_run(
                    uow, ctx, cmd.StartNoticeRun(fiscal_year, str(out_dir))
                )
            else:
                view = notices.get_run(uow, ctx, cmd.NoticeRunQuery(run))
            uow.commit()
        with _bar() as progress:
            task = progress.add_task(
                f"通知書（作成番号 {view.id}）", total=view.total, completed=view.written
            )
            while view.status != notices.FINISHED:
                with db.unit_of_work(code) as uow:
                    view = notices.notice_run_step(uow, ctx, cmd.NoticeRunStep(view.id))
                    uow.commit()
                progress.update(task, completed=view.written)
    finally:
        db.dispose()
    out.print(
        f"作成番号 {view.id}: 通知書 {view.written}/{view.total} 通、"
        f"課税なし（通知なし） {view.no_notice} 人、特別徴収義務者用 {view.employer_lists} 通 → "
        f"{view.out_dir}"
    )


def _read_json(path: Path, what: str) -> Any:
    """A JSON file's content; a missing or broken file is bad input (Japanese, exit 2)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError:
        raise InvalidError("juminzei.unreadable", f"{what}「{path}」を読めません", what) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidError(
            "juminzei.bad_json",
            f"{what}「{path}」は JSON として読めません（{exc.lineno}行{exc.colno}列）",
            what,
        ) from None


@juminzei_app.command(
    "calc", help="課税資料の JSON から税額を計算して JSON で出力する（データベースは使わない）。"
)
@console.cli_errors()
def calc_verb(
    year: Annotated[str, typer.Option("--year", help="年度（令和6 / R6 / 2024）")],
    input_path: Annotated[Path, typer.Option("--input", help="課税資料の JSON ファイル")],
    municipality_path: Annotated[
        Path | None,
        typer.Option("--municipality", help="団体の設定の JSON（指定都市・級地・超過課税）"),
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="結果の JSON の出力先（省略時は標準出力）")
    ] = None,
) -> None:
    fiscal_year = parse_fiscal_year(year)
    rules = load_rules(fiscal_year)
    data = _read_json(input_path, "課税資料")
    if not isinstance(data, dict):
        raise InvalidError("juminzei.bad_json", "課税資料は JSON のオブジェクトにしてください")
    embedded = data.pop("municipality", None)
    profile = MunicipalityProfile()
    if municipality_path is not None:
        profile = parse_municipality(_read_json(municipality_path, "団体の設定"))
    elif embedded is not None:
        profile = parse_municipality(embedded)
    result = assess(parse_case(data, fiscal_year), rules, profile).to_json()
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    if out_path is None:
        typer.echo(text, nl=False)
    else:
        out_path.write_text(text, encoding="utf-8")
