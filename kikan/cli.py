"""The `kikan` command line: the operator interface scripts depend on.

Verbs are stable (`db upgrade`, `tenant create`, `audit verify`, `demo`, `serve` …); change them
only with a deprecation path. Errors print a Japanese message and exit non-zero:
1 = check failed (e.g. a broken audit chain), 2 = bad input or state, 3 = database unreachable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kikan.modules import demo_seeders, install_cli, register_linkage_scopes
from kikan.platform import audit, auth, console, tenancy
from kikan.platform.crypto import KeyRing
from kikan.platform.db import HOST_SCOPE
from kikan.platform.errors import KikanError
from kikan.platform.functions import platform_table
from kikan.platform.logs import configure_logging
from kikan.platform.settings import Settings, get_settings
from kikan.platform.uow import Database, Scope
from kikan.scaffold.cli import module_app

app = typer.Typer(no_args_is_help=True, help="Kikan（基幹）運用コマンド", rich_markup_mode="rich")
db_app = typer.Typer(no_args_is_help=True, help="データベースの管理")
tenant_app = typer.Typer(no_args_is_help=True, help="団体（テナント）の管理")
staff_app = typer.Typer(no_args_is_help=True, help="職員アカウントの管理")
operator_app = typer.Typer(no_args_is_help=True, help="ホスト運用者の管理")
audit_app = typer.Typer(no_args_is_help=True, help="アクセスログ")
keys_app = typer.Typer(no_args_is_help=True, help="個人番号暗号鍵の管理")
export_app = typer.Typer(no_args_is_help=True, help="データの出力")
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(staff_app, name="staff")
app.add_typer(operator_app, name="operator")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(export_app, name="export")
app.add_typer(module_app, name="module")  # developer tooling, above the registry (kikan.scaffold)


install_cli(app)  # every module's verbs, from the registry (kikan.modules)

out = console.out
err = console.err
CLI_ACTOR_TERMINAL = console.CLI_TERMINAL
_actor = console.cli_actor
handle_errors = console.cli_errors()


def _settings() -> Settings:
    return get_settings()


def _db() -> Database:
    return Database(_settings().effective_database_url)


@app.callback()
def main() -> None:
    configure_logging(_settings().log_level)
    # scopes the modules declare for their provider APIs: `kikan linkage client create|list|
    # scopes` accept and label them as the application does (kikan.app registers them too)
    register_linkage_scopes()


# ---------------------------------------------------------------- db


@db_app.command("upgrade")
@handle_errors
def db_upgrade() -> None:
    """データベースを最新のスキーマに移行する（Alembic）。"""
    from kikan.models import upgrade

    s = _settings()
    ok = upgrade(s.effective_migration_url, app_role=s.db_app_role)
    out.print(
        "[green]✓[/] データベースを最新の版に移行しました"
        f"（{_redact_url(s.effective_migration_url)}）。"
    )
    if not ok:
        err.print(
            f"[yellow]注意:[/] アプリケーション用ロール {s.db_app_role} を作成できませんでした。"
            "DBA に作成と権限付与を依頼してください。"
        )


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# ---------------------------------------------------------------- tenants


@tenant_app.command("create")
@handle_errors
def tenant_create(
    code: Annotated[str, typer.Argument(help="地方公共団体コード（6桁）")],
    name: Annotated[str, typer.Argument(help="団体名")],
    prefecture: Annotated[str, typer.Option(help="都道府県名")] = "",
    mayor_name: Annotated[str, typer.Option(help="認証者（首長）の氏名")] = "",
    mayor_title: Annotated[str, typer.Option(help="認証者の職名（既定は団体名から推定）")] = "",
    seal: Annotated[Path | None, typer.Option(help="公印画像（PNG）")] = None,
) -> None:
    """団体を登録する。例: kikan tenant create 131016 千代田区"""
    seal_png = seal.read_bytes() if seal else None
    with _db().unit_of_work(Scope.host()) as uow:
        t = tenancy.create_tenant(
            uow,
            _actor(),
            code=code,
            name=name,
            prefecture=prefecture,
            mayor_title=mayor_title,
            mayor_name=mayor_name,
            seal_png=seal_png,
        )
        uow.commit()
    out.print(f"[green]✓[/] 団体 {t.code} {t.name} を登録しました。")


@tenant_app.command("list")
@handle_errors
def tenant_list() -> None:
    """登録されている団体の一覧。"""
    from rich.table import Table

    with _db().unit_of_work(Scope.host()) as uow:
        tenants = tenancy.list_tenants(uow)
    table = Table("団体コード", "団体名", "都道府県", "認証者", "公印")
    for t in tenants:
        table.add_row(
            t.code,
            t.name,
            t.prefecture,
            f"{t.mayor_title} {t.mayor_name}",
            "有" if t.has_seal else "無",
        )
    out.print(table)


# ---------------------------------------------------------------- staff / operators


def _password(value: str | None) -> str:
    if value:
        return value
    env = os.environ.get("KIKAN_NEW_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise KikanError(
            "パスワードを --password か環境変数 KIKAN_NEW_PASSWORD で指定してください。"
        )
    return str(typer.prompt("パスワード", hide_input=True, confirmation_prompt=True))


@staff_app.command("create")
@handle_errors
def staff_create(
    tenant: Annotated[str, typer.Option(help="団体コード")],
    login_id: Annotated[str, typer.Option("--login", help="ログインID")],
    name: Annotated[str, typer.Option(help="利用者名称")],
    role: Annotated[
        list[str], typer.Option(help="権限: counter/approver/sysadmin/auditor（複数可）")
    ],
    department: Annotated[str, typer.Option(help="所属部署名称")] = "",
    password: Annotated[str | None, typer.Option(help="初期パスワード（省略時は入力）")] = None,
) -> None:
    """職員アカウントを登録する。"""
    db = _db()
    code = tenancy.check_code(tenant)
    with db.unit_of_work(Scope.host()) as uow:
        tenancy.get_tenant(uow, code)
    with db.unit_of_work(code) as uow:
        auth.create_staff(
            uow,
            _actor(),
            login_id=login_id,
            display_name=name,
            roles=role,
            password=_password(password),
            department=department,
        )
        uow.commit()
    out.print(f"[green]✓[/] 職員 {login_id} を団体 {code} に登録しました。")


@operator_app.command("create")
@handle_errors
def operator_create(
    login_id: Annotated[str, typer.Option("--login", help="ログインID")],
    name: Annotated[str, typer.Option(help="氏名")],
    password: Annotated[str | None, typer.Option(help="パスワード（省略時は入力）")] = None,
) -> None:
    """ホスト運用者を登録する。"""
    with _db().unit_of_work(Scope.host()) as uow:
        auth.create_operator(
            uow, _actor(), login_id=login_id, display_name=name, password=_password(password)
        )
        uow.commit()
    out.print(f"[green]✓[/] ホスト運用者 {login_id} を登録しました。")


# ---------------------------------------------------------------- audit


@audit_app.command("verify")
@handle_errors
def audit_verify(
    tenant: Annotated[str, typer.Option(help="団体コード（ホストのログは host）")],
    anchor: Annotated[
        Path | None,
        typer.Option(
            help="以前の検証で保存した先頭ハッシュのファイル。無ければ作成し、有れば照合する"
        ),
    ] = None,
) -> None:
    """アクセスログのハッシュチェーンを検証する。改ざんがあれば最初の記録を示し、終了コード1。"""
    db = _db()
    scope = HOST_SCOPE if tenant == HOST_SCOPE else tenancy.check_code(tenant)
    if scope != HOST_SCOPE:
        with db.unit_of_work(Scope.host()) as uow:
            tenancy.get_tenant(uow, scope)
    with db.unit_of_work(scope) as uow:
        result = audit.verify_chain(uow)
    audit.append_now(
        db,
        scope,
        _actor(),
        audit.AuditEvent(
            category="operation",
            action="audit.verify",
            function=platform_table().entry("platform.audit_verify"),
            outcome="ok" if result.ok else "error",
            detail={"checked": result.checked, "ok": result.ok},
        ),
    )
    if not result.ok:
        err.print(f"[red]✗ 改ざんを検出しました[/]（{scope}）: {result.problem}")
        err.print(f"  最初の異常: 連番 {result.first_bad_seq}（種別: {result.kind}）")
        raise typer.Exit(1)
    if anchor is not None:
        _check_anchor(anchor, result)
    out.print(
        f"[green]✓[/] アクセスログは正常です（{scope}、{result.checked:,} 件、"
        f"先頭 連番 {result.head_seq} ハッシュ {result.head_hash[:16]}…）。"
    )


def _check_anchor(path: Path, result: audit.VerifyResult) -> None:
    """An anchor is a head (seq, hash) kept outside the database; the chain must still hold it."""
    if path.exists():
        seq_s, _, hash_s = path.read_text().strip().partition(" ")
        seq = int(seq_s)
        db = _db()
        with db.unit_of_work(result.chain) as uow:
            from sqlalchemy import select

            from kikan.platform.store import AuditRecordRow

            stored = uow.session.scalars(
                select(AuditRecordRow.hash).where(AuditRecordRow.seq == seq)
            ).first()
        if seq > result.head_seq or (seq > 0 and stored != hash_s):
            err.print(
                "[red]✗ 改ざんを検出しました[/]: "
                f"保存済みの先頭（連番 {seq}）がログの内容と一致しません。"
                "末尾が書き換えられた可能性があります。"
            )
            raise typer.Exit(1)
    path.write_text(f"{result.head_seq} {result.head_hash}\n")


# ---------------------------------------------------------------- keys


@keys_app.command("init")
@handle_errors
def keys_init(
    key_id: Annotated[str, typer.Option(help="鍵ID")] = "k1",
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="既に鍵ファイルがあれば何もしない")
    ] = False,
) -> None:
    """個人番号の暗号鍵ファイルを作成する（KIKAN_MYNUMBER_KEY_FILE、既定 var/mynumber.keys）。"""
    path = _settings().effective_key_file
    if path.exists() and if_missing:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    KeyRing.generate_key_file(path, key_id)
    out.print(f"[green]✓[/] 暗号鍵 {key_id} を {path} に作成しました（権限 0600）。")


# ---------------------------------------------------------------- demo / serve


@app.command("demo")
@handle_errors
def demo() -> None:
    """デモ団体（架空県日和市）と職員アカウントを登録する（登録済みなら何もしない）。"""
    from kikan.platform.crypto import load_keyring
    from kikan.platform.demo import (
        DEMO_OPERATOR,
        DEMO_PASSWORD,
        DEMO_STAFF,
        DEMO_TENANT,
        DEMO_TENANT_NAME,
        seed_demo,
    )

    seeders = demo_seeders()
    with out.status("デモデータを登録しています…"):
        result = seed_demo(_db(), seeders, keyring=load_keyring(_settings()))
    if result.created:
        out.print(f"[green]✓[/] デモ団体 {DEMO_TENANT} {DEMO_TENANT_NAME} を登録しました。")
        for name, count in result.extra.items():
            out.print(f"  {name}: {count:,} 件")
    else:
        out.print(f"デモ団体 {DEMO_TENANT} {DEMO_TENANT_NAME} は登録済みです。")
    out.print(f"  団体コード {DEMO_TENANT} / パスワード {DEMO_PASSWORD}")
    for login_id, (display, _dept, roles) in DEMO_STAFF.items():
        out.print(
            f"  職員 {login_id:<10} {display}（{'・'.join(auth.role_label(r) for r in roles)}）"
        )
    out.print(f"  ホスト運用者 {DEMO_OPERATOR}")


@export_app.command("standard")
@handle_errors
def export_standard(
    tenant: Annotated[str, typer.Option(help="団体コード")],
    out_dir: Annotated[Path, typer.Option("--out", help="出力先ディレクトリ")],
    include_my_number: Annotated[
        bool, typer.Option("--include-my-number", help="個人番号を復号して出力する（既定は空欄）")
    ] = False,
) -> None:
    """団体の全データを標準レイアウト（住民記録）の CSV とマニフェストで出力する。"""
    from rich.progress import Progress

    from kikan.platform.crypto import load_keyring
    from kikan.residents.export import export_standard as run_export

    db = _db()
    code = tenancy.check_code(tenant)
    with db.unit_of_work(Scope.host()) as uow:
        tenancy.get_tenant(uow, code)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("出力中", total=None)

        def tick(group: str, rows: int) -> None:
            if rows % 1000 == 0:
                progress.update(task, description=f"出力中（{group} {rows:,} 行）")

        manifest = run_export(
            db,
            code,
            out_dir,
            actor=_actor(),
            keyring=load_keyring(_settings()),
            include_my_number=include_my_number,
            progress=tick,
        )
    for f in manifest.files:
        out.print(f"  {f.path:<22} {f.rows:>10,} 行  sha256 {f.sha256[:16]}…")
    out.print(f"[green]✓[/] {out_dir} に出力しました（manifest.json を含む）。")


@app.command("check")
def check(
    paths: Annotated[list[Path], typer.Argument(help="検査するCSVファイル（複数可）")],
    layout: Annotated[str, typer.Option(help="標準レイアウト名（例: 住民記録）")] = "住民記録",
    html: Annotated[Path | None, typer.Option(help="HTML 報告の出力先")] = None,
    csv: Annotated[Path | None, typer.Option(help="CSV 報告の出力先")] = None,
) -> None:
    """標準レイアウトへの適合を検査する（どのベンダーのファイルでも可）。誤りがあれば終了コード1。"""
    from kikan.conformance import run_check

    raise typer.Exit(run_check(layout, paths, html=html, csv=csv, console=out))


@app.command("openapi")
@handle_errors
def openapi(
    out: Annotated[Path | None, typer.Option(help="出力先（省略時は標準出力）")] = None,
) -> None:
    """API 仕様（OpenAPI 3.1 JSON）を出力する。docs/api/openapi.json はこの出力と一致させる。"""
    import json

    from kikan.app import create_app

    spec = create_app(_settings()).openapi()
    text = json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        out_console = Console(stderr=True)
        out_console.print(f"[green]✓[/] {out} を書き出しました。")


@app.command("functions")
@handle_errors
def functions_map(
    out: Annotated[
        Path | None,
        typer.Option(help="出力先（.csv または .xlsx。省略時は CSV を標準出力）"),
    ] = None,
) -> None:
    """機能ID対応表（機能の一覧: キー・機能名・業務コード・仕様の節・機能ID・権限・API）を出力する。

    標準の機能ID が判明していない機能は「機能ID」欄が空です（推測の番号は入れません）。"""
    from kikan.app import create_app
    from kikan.modules import function_catalogue
    from kikan.platform.deps import route_operations

    routes: dict[str, list[str]] = {}
    for op in route_operations(create_app(_settings())):
        if op.key:
            routes.setdefault(op.key, []).append(f"{'/'.join(op.methods)} {op.path}")
    header = [
        "キー",
        "機能",
        "業務コード",
        "モジュール",
        "仕様の節",
        "機能ID",
        "利用者",
        "権限",
        "API",
    ]
    rows = [
        [
            f.key,
            f.label,
            f.gyomu_code or "",
            f.module,
            " ".join(f.spec),
            f.official_id,
            f.principal,
            "・".join(auth.role_label(r) for r in f.roles),
            "\n".join(routes.get(f.key, [])),
        ]
        for f in function_catalogue().values()
    ]
    if out is not None and out.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "機能ID対応表"
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        out.parent.mkdir(parents=True, exist_ok=True)
        book.save(out)
    else:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        if out is None:
            sys.stdout.write(buffer.getvalue())
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(buffer.getvalue(), encoding="utf-8-sig")  # Excel opens it as UTF-8
    Console(stderr=True).print(f"[green]✓[/] {out} に {len(rows)} 件を書き出しました。")


@app.command("serve")
@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="待ち受けアドレス")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="ポート")] = 8000,
    workers: Annotated[int, typer.Option(help="ワーカープロセス数")] = 1,
) -> None:
    """API（と画面）を提供する。"""
    import uvicorn

    from kikan.app import SchemaOutdated, UnsafeDatabaseRole, verify_database_role, verify_schema

    s = _settings()
    db = _db()
    try:
        verify_database_role(db, s)
        verify_schema(db)
    except (UnsafeDatabaseRole, SchemaOutdated) as exc:
        err.print(f"[red]エラー:[/] {exc}")
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    out.print(
        f"Kikan を http://{host}:{port}/ で起動します（API 文書 http://{host}:{port}/api/v1/docs）。"
    )
    uvicorn.run(
        "kikan.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=s.log_level.lower(),
        access_log=True,
    )
