"""`kikan <module> connect` and `kikan <module> sync` for any consumer, from one factory.

The verbs, options, exit codes and output are the ones 印鑑登録 had (`kikan seal sync --tenant
--base-url --max-pages`); `--resync` is the operator's answer when the provider refuses the
stored cursor (ResyncRequired): the message says so.
"""

# No `from __future__ import annotations`: typer reads the commands' annotations at run time,
# and they name the factory's local `password_env`, which a string annotation cannot reach.
from typing import Annotated

import typer

from kikan.linkage.consumer import client, sync
from kikan.platform import console

out = console.out


def sync_summary(report: sync.SyncReport) -> str:
    reactions = "、".join(f"{k} {v}件" for k, v in sorted(report.reactions.items())) or "なし"
    return (
        f"全件 {report.full_records}件（{report.full_pages}頁）、差分 {report.events}件、"
        f"反映位置 {report.cursor}、処理: {reactions}"
        + ("（途中で停止。次回は続きから）" if report.stopped else "")
    )


def resync_hint(consumer: sync.Consumer, tenant: str) -> str:
    return (
        f"全件から取り直すには kikan {consumer.name} sync --tenant {tenant} --resync "
        "を実行してください（登録済みのデータはそのまま、宛名を取り込み直します）。"
    )


def add_consumer_commands(
    app: typer.Typer, consumer: sync.Consumer, *, sync_help: str = ""
) -> None:
    """Add `connect` and `sync` to a module's command group."""
    errors = console.cli_errors(client.LinkageError)
    password_env = f"KIKAN_{consumer.name.upper()}_ADMIN_PASSWORD"

    connect_help = (
        f"{consumer.title}を連携クライアントとして登録し（連携 API 経由）、資格情報を保存する。"
    )

    @app.command("connect", help=connect_help)
    @errors
    def connect(
        tenant: Annotated[str, typer.Option("--tenant", help="団体コード")],
        base_url: Annotated[str, typer.Option("--base-url", help="庁内データ連携 API の URL")],
        login_id: Annotated[str, typer.Option("--login-id", help="システム管理権限の職員")],
        password: Annotated[
            str,
            typer.Option(
                "--password",
                envvar=password_env,
                prompt=True,
                hide_input=True,
                help=f"職員のパスワード（環境変数 {password_env} でも可）",
            ),
        ],
    ) -> None:
        token = client.staff_login(base_url, tenant, login_id, password)
        client_id, secret = client.register_client(
            base_url, token, name=consumer.client_name or consumer.title, scopes=consumer.scopes
        )
        db = console.open_db()
        try:
            with db.unit_of_work(tenant) as uow:
                sync.save_link(
                    uow,
                    consumer,
                    console.cli_actor(),
                    base_url=base_url,
                    client_id=client_id,
                    client_secret=secret,
                )
                uow.commit()
        finally:
            db.dispose()
        out.print(
            f"連携クライアント {client_id} を登録しました（範囲: {', '.join(consumer.scopes)}）。"
        )

    @app.command(
        "sync", help=sync_help or f"宛名を全件・差分で取り込み、{consumer.title}に反映する。"
    )
    @errors
    def sync_verb(
        tenant: Annotated[str, typer.Option("--tenant", help="団体コード")],
        base_url: Annotated[
            str | None,
            typer.Option("--base-url", help="庁内データ連携 API の URL（保存値を上書き）"),
        ] = None,
        max_pages: Annotated[
            int | None, typer.Option("--max-pages", help="この頁数で止める（次回は続きから）")
        ] = None,
        resync: Annotated[
            bool,
            typer.Option(
                "--resync", help="反映位置を捨てて全件から取り直す（反映位置が使えないとき）"
            ),
        ] = False,
    ) -> None:
        db = console.open_db()
        try:
            if resync:
                with db.unit_of_work(tenant) as uow:
                    sync.restart(uow, consumer, console.cli_actor())
                    uow.commit()
            try:
                report = sync.sync_tenant(
                    db, consumer, tenant, base_url=base_url, max_pages=max_pages
                )
            except client.ResyncRequired as exc:
                raise client.ResyncRequired(
                    f"{exc.message}{resync_hint(consumer, tenant)}", exc.status, exc.slug
                ) from None
        finally:
            db.dispose()
        out.print(sync_summary(report))
