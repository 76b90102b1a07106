"""`kikan linkage …` verbs: linkage clients, purge of used assertion ids and tokens, push relay.

Registered by the CLI composition root (kikan.cli). Errors print a Japanese message and exit 2
(bad input or state) or 3 (database or NATS unreachable), like the rest of the CLI.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterable
from typing import Annotated

import typer
from nats.errors import Error as NatsError
from rich.table import Table

from kikan.linkage import push, service
from kikan.platform import console, tenancy
from kikan.platform.context import Context
from kikan.platform.settings import get_settings
from kikan.platform.uow import Scope

linkage_app = typer.Typer(
    no_args_is_help=True, help="庁内データ連携（連携クライアント・PUSH 送信）"
)
client_app = typer.Typer(no_args_is_help=True, help="連携クライアントの管理")
linkage_app.add_typer(client_app, name="client")

# Exit codes, Japanese messages and the operator actor are the CLI's shared ones.
out = console.out
err = console.err
_actor = console.cli_actor


def _labelled(scopes: Iterable[str]) -> str:
    """Scopes with their Japanese labels, as listings show them."""
    return ", ".join(f"{s}（{service.scope_label(s)}）" for s in scopes)


def _ctx() -> Context:
    """The operator at this terminal, now (no key ring: client administration needs none)."""
    return Context(actor=_actor())


_db = console.open_db
_errors = console.cli_errors()
_tenant = console.check_tenant


TenantOpt = Annotated[str, typer.Option("--tenant", help="団体コード（6桁）")]


@client_app.command("create")
@_errors
def client_create(
    tenant: TenantOpt,
    name: Annotated[str, typer.Option(help="連携先システムの名称")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="連携範囲（複数可）。指定できるものは kikan linkage client scopes で表示",
        ),
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="結果を JSON（1行）で標準出力に出す（登録を自動化するスクリプト向け）"
        ),
    ] = False,
) -> None:
    """連携クライアントを登録し、クライアントIDと共有鍵を表示する（共有鍵はこの時だけ表示）。"""
    db = _db()
    code = _tenant(db, tenant)
    with db.unit_of_work(code) as uow:
        created = service.register_client(
            uow, _ctx(), service.RegisterClient(name=name, scopes=tuple(scope))
        )
        uow.commit()
    if as_json:
        # plain stdout, not the rich console: no markup, colour or line wrapping in the way
        typer.echo(
            json.dumps(
                {
                    "tenant": code,
                    "client_id": created.client_id,
                    "client_secret": created.client_secret,
                    "name": created.name,
                    "scopes": list(created.scopes),
                },
                ensure_ascii=False,
            )
        )
        return
    out.print(f"[green]✓[/] 連携クライアント「{created.name}」を登録しました。")
    out.print(f"  クライアントID {created.client_id}")
    out.print(f"  共有鍵         {created.client_secret}")
    out.print(f"  連携範囲       {_labelled(created.scopes)}")
    out.print("  共有鍵は再表示できません。連携先に安全な方法で渡してください。")


@client_app.command("list")
@_errors
def client_list(tenant: TenantOpt) -> None:
    """連携クライアントの一覧を表示する。"""
    db = _db()
    code = _tenant(db, tenant)
    with db.unit_of_work(code) as uow:
        rows = service.list_clients(uow, _ctx(), service.ListClients())
        table = Table()
        # the id is copied into other commands: never folded by a narrow terminal
        table.add_column("クライアントID", no_wrap=True)
        for header in ("名称", "連携範囲", "状態", "登録日時"):
            table.add_column(header)
        for r in rows:
            table.add_row(
                r.client_id,
                r.name,
                _labelled(r.scopes.split(",")),
                "利用中" if r.active else "停止",
                r.created_at.isoformat(timespec="seconds"),
            )
    if not rows:
        out.print("連携クライアントは登録されていません。")
        return
    out.print(table)


@client_app.command("scopes")
@_errors
def client_scopes() -> None:
    """連携クライアントに指定できる連携範囲と、その説明を表示する。"""
    table = Table("連携範囲", "内容")
    for scope, label in service.known_scopes().items():
        table.add_row(scope, label)
    out.print(table)


@client_app.command("rotate")
@_errors
def client_rotate(
    tenant: TenantOpt, client_id: Annotated[str, typer.Argument(help="クライアントID")]
) -> None:
    """共有鍵を更新する。旧い共有鍵と発行済みのアクセストークンは直ちに使えなくなる。"""
    db = _db()
    code = _tenant(db, tenant)
    with db.unit_of_work(code) as uow:
        rotated = service.rotate_secret(uow, _ctx(), service.ClientRef(client_id))
        uow.commit()
    out.print(f"[green]✓[/] {rotated.client_id} の共有鍵を更新しました。")
    out.print(f"  新しい共有鍵 {rotated.client_secret}")


@client_app.command("disable")
@_errors
def client_disable(
    tenant: TenantOpt, client_id: Annotated[str, typer.Argument(help="クライアントID")]
) -> None:
    """連携クライアントの利用を停止する。発行済みのアクセストークンも直ちに無効になる。"""
    db = _db()
    code = _tenant(db, tenant)
    with db.unit_of_work(code) as uow:
        service.disable_client(uow, _ctx(), service.ClientRef(client_id))
        uow.commit()
    out.print(f"[green]✓[/] {client_id} の利用を停止しました。")


@linkage_app.command("purge")
@_errors
def purge() -> None:
    """有効期限を過ぎた使用済み jti とアクセストークンを全団体から削除する。"""
    db = _db()
    with db.unit_of_work(Scope.host()) as uow:
        tenants = [t.code for t in tenancy.list_tenants(uow)]
    jti = tokens = 0
    for code in tenants:
        with db.unit_of_work(code) as uow:
            purged = service.purge_expired(uow, _ctx(), service.PurgeExpired())
            uow.commit()
        jti += purged.jti
        tokens += purged.tokens
    out.print(
        f"[green]✓[/] 使用済み jti {jti:,} 件、期限切れアクセストークン {tokens:,} 件を削除しました"
        f"（{len(tenants)} 団体）。"
    )


@linkage_app.command("push")
@_errors
def push_worker(
    once: Annotated[
        bool, typer.Option("--once", help="未送信分を一度送信して終了する（既定は常駐）")
    ] = False,
    interval: Annotated[float, typer.Option(help="未送信分を確認する間隔（秒）")] = 0.2,
) -> None:
    """差分を NATS JetStream に送信する（KIKAN_NATS_URL が必要）。常駐時は Ctrl+C で停止。"""
    config = push.config_from_settings(get_settings())
    if config is None:
        err.print("[red]エラー:[/] KIKAN_NATS_URL を設定してください（例 nats://127.0.0.1:4222）。")
        raise typer.Exit(2)
    db = _db()

    async def once_() -> int:
        nc, js = await push.connect(config)
        try:
            return await push.relay_once(db, js, config)
        finally:
            await nc.drain()

    async def forever() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await push.run(db, config, stop, interval=interval)

    try:
        if once:
            n = asyncio.run(once_())
            out.print(f"[green]✓[/] {n:,} 件の事象を {config.url} に送信しました。")
        else:
            out.print(f"{config.url}（stream {config.stream}）への送信を開始します。")
            asyncio.run(forever())
            out.print("送信を停止しました。")
    except (OSError, TimeoutError, NatsError) as exc:
        err.print(f"[red]エラー:[/] NATS（{config.url}）に接続できません: {exc}")
        raise typer.Exit(3) from None
    finally:
        db.dispose()
