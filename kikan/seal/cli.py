"""`kikan seal …` verbs: connect 印鑑登録 to the linkage API and pull the 宛名."""

from __future__ import annotations

from typing import Annotated

import typer

from kikan.platform import console
from kikan.seal import client, service
from kikan.seal.sync import sync_tenant

seal_app = typer.Typer(no_args_is_help=True, help="印鑑登録")
out = console.out
err = console.err


_actor = console.cli_actor
_db = console.open_db
#: A refusing or unreachable linkage API is bad state for the operator (exit 2), like a problem.
_errors = console.cli_errors(client.LinkageError)


@seal_app.command("connect")
@_errors
def connect(
    tenant: Annotated[str, typer.Option("--tenant", help="団体コード")],
    base_url: Annotated[str, typer.Option("--base-url", help="庁内データ連携 API の URL")],
    login_id: Annotated[str, typer.Option("--login-id", help="システム管理権限の職員")],
    password: Annotated[
        str,
        typer.Option(
            "--password",
            envvar="KIKAN_SEAL_ADMIN_PASSWORD",
            prompt=True,
            hide_input=True,
            help="職員のパスワード（環境変数 KIKAN_SEAL_ADMIN_PASSWORD でも可）",
        ),
    ],
) -> None:
    """印鑑登録を連携クライアントとして登録し（連携 API 経由）、資格情報を保存する。"""
    token = client.staff_login(base_url, tenant, login_id, password)
    client_id, secret = client.register_client(base_url, token)
    db = _db()
    try:
        with db.unit_of_work(tenant) as uow:
            service.save_link(
                uow, _actor(), base_url=base_url, client_id=client_id, client_secret=secret
            )
            uow.commit()
    finally:
        db.dispose()
    out.print(f"連携クライアント {client_id} を登録しました（範囲: {', '.join(client.SCOPES)}）。")


@seal_app.command("sync")
@_errors
def sync(
    tenant: Annotated[str, typer.Option("--tenant", help="団体コード")],
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="庁内データ連携 API の URL（保存値を上書き）")
    ] = None,
    max_pages: Annotated[
        int | None, typer.Option("--max-pages", help="この頁数で止める（次回は続きから）")
    ] = None,
) -> None:
    """宛名を全件・差分で取り込み、転出・死亡・氏名変更などを印鑑登録に反映する。"""
    db = _db()
    try:
        report = sync_tenant(db, tenant, base_url=base_url, max_pages=max_pages)
    finally:
        db.dispose()
    reactions = "、".join(f"{k} {v}件" for k, v in sorted(report.reactions.items())) or "なし"
    out.print(
        f"全件 {report.full_records}件（{report.full_pages}頁）、差分 {report.events}件、"
        f"反映位置 {report.cursor}、処理: {reactions}"
        + ("（途中で停止。次回は続きから）" if report.stopped else "")
    )
