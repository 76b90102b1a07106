"""The composition root: builds the FastAPI application from the platform and the modules.

Only this module (and the CLI) knows every module; modules know the platform, never each other.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from pydantic_settings import BaseSettings

from kikan import __version__, modules, web
from kikan.linkage import push as linkage_push
from kikan.linkage.consumer import sync as consumer_sync
from kikan.linkage.settings import LinkageSettings
from kikan.platform import api as platform_api
from kikan.platform import auth
from kikan.platform.crypto import load_keyring
from kikan.platform.deps import check_operations
from kikan.platform.errors import install_handlers
from kikan.platform.http import SecurityHeaders, install_docs
from kikan.platform.limits import BodyLimit
from kikan.platform.logs import protect_server_logs
from kikan.platform.migrate import schema_is_current
from kikan.platform.modules import ModuleDescriptor, build_settings, settings_for
from kikan.platform.openapi import document_problems
from kikan.platform.rls import check_app_role
from kikan.platform.settings import Settings, get_settings
from kikan.platform.uow import Database

log = logging.getLogger("kikan.app")
OPENAPI_URL = "/api/v1/openapi.json"


INDEX_HTML = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>Kikan 基幹</title>
<link rel="stylesheet" href="/ui/static/kikan.css"></head>
<body>
<h1>Kikan（基幹）</h1>
<p>標準準拠の地方公共団体基幹業務システムです。</p>
<ul>
<li><a href="/api/v1/docs">API 文書（OpenAPI）</a></li>
<li><a href="/healthz">稼働状況</a></li>
</ul>
<p><a href="/ui/">職員向け画面（ログイン）</a></p>
</body></html>
"""


class UnsafeDatabaseRole(RuntimeError):
    """The application was pointed at a PostgreSQL role that bypasses row-level security."""


class SchemaOutdated(RuntimeError):
    """The database was not migrated to the revision this code needs."""


def verify_schema(db: Database, locations: Iterable[Path] | None = None) -> None:
    """Refuse to serve on a database that `kikan db upgrade` has not brought up to date: every
    request would otherwise fail on a missing table, long after start-up looked fine.

    `locations` None: the registry's module branches (what `kikan db upgrade` applies); the
    platform chain alone would call a database with a module branch (seal_0001) outdated."""
    if locations is None:
        locations = modules.migration_locations()
    current_ok, current, head = schema_is_current(db.engine, locations)
    if not current_ok:
        raise SchemaOutdated(
            "データベースのスキーマが最新ではありません"
            f"（現在 {current or '未作成'}、必要 {head}）。"
            "kikan db upgrade を実行してください。"
        )


def verify_database_role(db: Database, settings: Settings) -> None:
    """Refuse to serve as a superuser/BYPASSRLS role: RLS must be a real second wall."""
    if not db.is_postgres:
        return
    with db.engine.connect() as conn:
        role, bypasses = check_app_role(conn)
    if bypasses and not settings.allow_rls_bypass:
        raise UnsafeDatabaseRole(
            f"データベースロール {role} は行レベルセキュリティを回避できるため、アプリケーションの"
            "接続には使えません。KIKAN_DATABASE_URL にはアプリケーション用ロール"
            f"（既定 {settings.db_app_role}）を指定してください。"
        )


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    module_settings: Iterable[BaseSettings] = (),
    registry: Sequence[ModuleDescriptor] = modules.MODULES,
) -> FastAPI:
    """The application from the platform and every module of the registry (`kikan.modules`).

    `module_settings` replaces a module's settings read from the environment (tests);
    `registry` replaces the module list (the scaffold's scenario test adds a throwaway module)."""
    settings = settings or get_settings()
    protect_server_logs()
    auth.prepare_login()
    owns_db = db is None
    database = db or Database(settings.effective_database_url, **settings.engine_options)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        verify_database_role(database, settings)
        verify_schema(database, modules.migration_locations(registry))
        # Blocking endpoints run in AnyIO's thread pool (40 threads by default). Never let more
        # of them run than the engine has connections: under a burst (convenience-store
        # issuance) requests then wait their turn instead of failing on the pool after 30 s.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = settings.db_pool_size + settings.db_max_overflow
        linkage = settings_for(app.state, LinkageSettings)
        consumers = [
            (consumer, settings_for(app.state, consumer.settings))
            for consumer in modules.linkage_consumers(registry)
        ]
        async with (
            linkage_push.background(database, settings, linkage),
            consumer_sync.background(database, consumers),
        ):
            yield
        if owns_db:
            database.dispose()

    app = FastAPI(
        title="Kikan 基幹 API",
        version=__version__,
        description="標準準拠の地方公共団体基幹業務システム Kikan の API。"
        "エラーは RFC 9457 (application/problem+json) で返します。",
        lifespan=lifespan,
        openapi_url=OPENAPI_URL,
        docs_url=None,  # ours, served locally: see kikan.platform.http
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.module_settings = build_settings(registry, module_settings)
    app.state.keyring = load_keyring(settings)
    app.state.functions = modules.function_catalogue(registry)
    modules.register_linkage_providers(registry)
    modules.register_linkage_scopes(registry)
    install_handlers(app)
    app.add_middleware(BodyLimit)  # inside security_headers, so a 413 carries them too

    app.add_middleware(SecurityHeaders)  # every response, 500s included
    install_docs(app)

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(INDEX_HTML)

    app.include_router(platform_api.health_router)
    app.include_router(platform_api.router)
    modules.include_api_routers(app, registry)
    app.include_router(web.router)
    modules.include_ui_routers(app, registry)
    web.install(app, nav=modules.nav_items(registry), template_dirs=modules.template_dirs(registry))
    check_operations(app, app.state.functions)
    document_problems(app)
    return app
