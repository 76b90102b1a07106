"""`kikan electoral_roll …` verbs: connect to 庁内データ連携 and pull the 宛名 (the consumer kit's
`connect` and `sync`, ADR 0012), register a roll as of a base date, load the 投票区 table, write
the 選挙人名簿抄本 and run the 4-month 抹消処理."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from kikan.electoral_roll import domain, overseas, report, service
from kikan.electoral_roll.linkage import CONSUMER, as_of_records
from kikan.electoral_roll.settings import ElectoralRollSettings
from kikan.linkage.consumer import LinkageError
from kikan.linkage.consumer.cli import add_consumer_commands
from kikan.platform import console
from kikan.platform.context import Context

electoral_roll_app = typer.Typer(no_args_is_help=True, help="選挙人名簿管理")
add_consumer_commands(
    electoral_roll_app,
    CONSUMER,
    sync_help="宛名を全件・差分で取り込み、転出の表示と死亡等の抹消を名簿に反映する。",
)
districts_app = typer.Typer(no_args_is_help=True, help="投票区の区域表")
electoral_roll_app.add_typer(districts_app, name="districts")
out = console.out

Tenant = Annotated[str, typer.Option("--tenant", help="団体コード")]


def _context() -> Context:
    return Context(actor=console.cli_actor())


@electoral_roll_app.command("register", help="基準日の住民記録から名簿を作成して確定する。")
@console.cli_errors(LinkageError, ValueError)
def register_verb(
    tenant: Tenant,
    base_date: Annotated[
        str | None, typer.Option("--base-date", help="定時登録の基準日 YYYY-MM-DD")
    ] = None,
    election: Annotated[
        int | None, typer.Option("--election", help="選挙時登録の選挙の番号")
    ] = None,
) -> None:
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        ctx = _context()
        base = date.fromisoformat(base_date) if base_date else None
        with db.unit_of_work(code) as uow:
            _kind, day, election_day, _id = service.check_roll(
                uow, ctx, service.CheckRoll(base, election)
            )
        settings = ElectoralRollSettings()
        records = as_of_records(db, code, day, base_url=settings.linkage_url or None,
                                page_size=settings.page_size)  # fmt: skip
        with Progress(console=console.err, transient=True) as progress:
            task = progress.add_task("基準日の住民記録を判定しています", total=None)

            def counted() -> Iterator[Mapping[str, str]]:
                for n, record in enumerate(records, 1):
                    if n % 1000 == 0:
                        progress.update(task, completed=n)
                    yield record

            judged = domain.judge_all(counted(), base_date=day, election_day=election_day)
        with db.unit_of_work(code) as uow:
            view = service.register_roll(uow, ctx, service.RegisterRoll(base, election, judged))
            uow.commit()
    finally:
        db.dispose()
    out.print(
        f"{view.kind}（基準日 {view.base_date}）を確定しました: 名簿番号 {view.id}、"
        f"登録 {view.registered} 人、表示 {view.marked} 人、新規登録 {view.newly_registered} 人"
    )
    for reason, n in sorted(view.not_on_roll.items()):
        out.print(f"  登録しない: {domain.NOT_ON_ROLL.get(reason, reason)} {n} 人")
    out.print(f"  内容のハッシュ: {view.digest}")


@districts_app.command(
    "load", help="投票区の区域表を CSV（投票区,名称,町字,番地始,番地終）で登録する。"
)
@console.cli_errors()
def districts_load(
    path: Annotated[Path, typer.Argument(help="UTF-8 の CSV（見出し行つき）")], tenant: Tenant
) -> None:
    rows: list[domain.DistrictRange] = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        for line in reader:
            if not any(cell.strip() for cell in line):
                continue
            cells = [*line, "", "", "", "", ""][:5]
            try:
                start = int(cells[3]) if cells[3].strip() else None
                end = int(cells[4]) if cells[4].strip() else None
            except ValueError:
                console.err.print(
                    f"[red]エラー:[/] {reader.line_num}行目: 番地は数字で書いてください"
                )
                raise typer.Exit(2) from None
            rows.append(domain.DistrictRange(cells[0].strip(), cells[1].strip(),
                                             cells[2].strip(), start, end))  # fmt: skip
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            loaded = service.load_districts(uow, _context(), service.LoadDistricts(tuple(rows)))
            uow.commit()
    finally:
        db.dispose()
    out.print(f"投票区の区域表（第{loaded.version}版、{loaded.rows}行）を登録しました。")
    for m in loaded.moved:
        out.print(
            f"  投票区の変更: {m.atena_number} {m.before or '未設定'} → {m.after or '未設定'}"
        )
    if loaded.without_district:
        out.print(f"  区域表に住所がない選挙人: {len(loaded.without_district)} 人")


@electoral_roll_app.command(
    "extract", help="選挙人名簿抄本を CSV または PDF（投票区ごと）に書き出す（住所・世帯の順）。"
)
@console.cli_errors()
def extract_verb(
    tenant: Tenant,
    roll: Annotated[int, typer.Option("--roll", help="名簿番号")],
    output: Annotated[Path, typer.Option("--out", help="書き出すファイル")],
    district: Annotated[str | None, typer.Option("--district", help="投票区")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="csv / pdf（pdf は --district が必要）")
    ] = "csv",
) -> None:
    if fmt not in ("csv", "pdf"):
        console.err.print("[red]エラー:[/] --format は csv か pdf です")
        raise typer.Exit(2)
    query = service.RollQuery(roll, district, output=fmt)
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            heading = service.extract_heading(uow, _context(), query) if fmt == "pdf" else None
            entries = service.roll_entries(uow, _context(), query)
            uow.commit()
    finally:
        db.dispose()
    if heading is not None:
        result = report.extract_pdf(entries, heading)
        output.write_bytes(result.pdf)
        out.print(f"{len(entries)} 人（{result.pages} ページ）を {output} に書き出しました。")
        return
    output.write_bytes(report.extract_csv(entries))
    out.print(f"{len(entries)} 人を {output} に書き出しました。")


@electoral_roll_app.command("strike-due", help="転出後4か月を経過した表示者を抹消する。")
@console.cli_errors()
def strike_due_verb(
    tenant: Tenant,
    as_of: Annotated[str, typer.Option("--as-of", help="この日現在 YYYY-MM-DD")],
) -> None:
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            command = service.StrikeDue(date.fromisoformat(as_of))
            struck = service.strike_due(uow, _context(), command)
            uow.commit()
    finally:
        db.dispose()
    out.print(f"{len(struck)} 人を抹消しました。")


# ---------------------------------------------------------------- 在外選挙人名簿 (kept separately)

overseas_app = typer.Typer(no_args_is_help=True, help="在外選挙人名簿（選挙人名簿とは別の名簿）")
electoral_roll_app.add_typer(overseas_app, name="overseas")


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@overseas_app.command(
    "register", help="在外選挙人名簿に登録する（要件を満たさなければ登録しない）。"
)
@console.cli_errors(ValueError)
def overseas_register_verb(  # noqa: PLR0917 - one option per item of the application
    tenant: Tenant,
    name: Annotated[str, typer.Option("--name", help="氏名")],
    birth_date: Annotated[
        str, typer.Option("--birth-date", help="生年月日（和暦・西暦、不詳も可）")
    ],
    sex: Annotated[str, typer.Option("--sex", help="性別 1 男 / 2 女")],
    route: Annotated[str, typer.Option("--route", help="出国時申請 / 在外公館申請")],
    consular_district: Annotated[
        str, typer.Option("--consular-district", help="領事官の管轄区域（在外公館）")
    ],
    applied_on: Annotated[str, typer.Option("--applied-on", help="申請日 YYYY-MM-DD")],
    registered_on: Annotated[str, typer.Option("--registered-on", help="登録日 YYYY-MM-DD")],
    japanese_national: Annotated[
        bool, typer.Option("--japanese-national/--not-japanese", help="日本国民である（申告）")
    ] = True,
    kana: Annotated[str, typer.Option("--kana", help="氏名カナ")] = "",
    last_address: Annotated[str, typer.Option("--last-address", help="最終住所")] = "",
    honseki: Annotated[str, typer.Option("--honseki", help="本籍")] = "",
    resident_since: Annotated[
        str | None, typer.Option("--resident-since", help="管轄区域に住み始めた日 YYYY-MM-DD")
    ] = None,
    on_city_roll: Annotated[
        bool, typer.Option("--on-city-roll", help="この市区町村の選挙人名簿に登録されている")
    ] = False,
) -> None:
    facts = overseas.OverseasFacts(
        name=name, kana=kana, birth_date=birth_date, sex=sex, route=route,
        last_address=last_address, honseki=honseki, consular_district=consular_district,
        resident_since=_day(resident_since), on_city_roll=on_city_roll,
        japanese_national=japanese_national, applied_on=date.fromisoformat(applied_on),
        registered_on=date.fromisoformat(registered_on),
    )  # fmt: skip
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            view = overseas.register_overseas(uow, _context(), overseas.RegisterOverseas(facts))
            uow.commit()
    finally:
        db.dispose()
    out.print(
        f"在外選挙人名簿に登録しました: 番号 {view.id}（{view.route}、登録日 {view.registered_on}）"
    )


@overseas_app.command(
    "strike", help="在外選挙人名簿から抹消する（死亡・国籍喪失・国内転入・登録の誤り）。"
)
@console.cli_errors(ValueError)
def overseas_strike_verb(
    tenant: Tenant,
    entry: Annotated[int, typer.Option("--entry", help="在外選挙人の番号")],
    reason: Annotated[
        str, typer.Option("--reason", help="死亡 / 国籍喪失 / 国内転入 / 登録の誤り")
    ],
    effective: Annotated[str, typer.Option("--effective", help="抹消の日 YYYY-MM-DD")],
) -> None:
    command = overseas.StrikeOverseas(entry, reason, date.fromisoformat(effective))
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            view = overseas.strike_overseas(uow, _context(), command)
            uow.commit()
    finally:
        db.dispose()
    out.print(f"在外選挙人 {view.id} を抹消しました（{view.strike_reason}、{view.struck_on}）。")


@overseas_app.command(
    "extract", help="在外選挙人名簿抄本を CSV に書き出す（選挙人名簿抄本とは別）。"
)
@console.cli_errors()
def overseas_extract_verb(
    tenant: Tenant,
    output: Annotated[Path, typer.Option("--out", help="書き出すファイル")],
    state: Annotated[str, typer.Option("--state", help="登録 / 抹消")] = "登録",
) -> None:
    db = console.open_db()
    try:
        code = console.check_tenant(db, tenant)
        with db.unit_of_work(code) as uow:
            views = overseas.list_overseas(uow, _context(), overseas.ListOverseas(state, "csv"))
            uow.commit()
    finally:
        db.dispose()
    output.write_bytes(overseas.extract_csv(views))
    out.print(f"在外選挙人 {len(views)} 人を {output} に書き出しました。")
