"""Pages for municipal IT and auditors: 標準レイアウトでの全件出力, 適合性検査 and the 機能ID map.

- Export runs `kikan.residents.export.export_standard` (audited there) into a temporary
  directory and returns the files and manifest as one ZIP; My Numbers are never included from
  the browser (the CLI is the place for that, with its own controls).
- Conformance runs the checker (`kikan.conformance.check_files`) on a fresh export — Kikan
  checking its own output the way a vendor's files are checked — or on uploaded CSV files.
- The 機能ID map reads kikan/residents/conformance.toml: per section of the spec, its status,
  the API operations and the screens that implement it.
"""

from __future__ import annotations

import io
import tempfile
import tomllib
import zipfile
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kikan.conformance import check_files
from kikan.platform import audit
from kikan.platform.types import Chars
from kikan.residents.export import export_standard
from kikan.residents.module import FUNCTIONS
from kikan.residents.web.common import IT_ROLES, MAP_ROLES
from kikan.web import shell
from kikan.web.shell import JST, DbDep, FormDep, NavItem, UserDep

router = APIRouter()
CONFORMANCE_MAP = Path(__file__).resolve().parents[1] / "conformance.toml"
LAYOUT = "住民記録"
MAX_UPLOAD = 200 * 1024 * 1024
STATUS_LABELS = {
    "implemented": "実装済み",
    "partial": "一部実装",
    "not_yet": "未実装",
    "no_requirement": "必須要件なし",
}

NAV = (
    NavItem("標準データ出力", "/ui/it/export", roles=IT_ROLES, accesskey="e", order=70),
    NavItem("適合性検査", "/ui/it/conformance", roles=IT_ROLES, accesskey="c", order=71),
    NavItem("機能ID対応表", "/ui/it/functions", roles=MAP_ROLES, accesskey="f", order=90),
)


@router.get("/it/export", response_class=HTMLResponse)
def export_page(request: Request, user: UserDep, db: DbDep) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("residents.standard_export"))
    return shell.render(request, user, "export.html", title="標準データ出力")


@router.post("/it/export")
def export_download(request: Request, user: UserDep, db: DbDep) -> Response:
    shell.uses(db, user, FUNCTIONS.entry("residents.standard_export"))
    with tempfile.TemporaryDirectory(prefix="kikan-ui-export-") as tmp:
        out = Path(tmp)
        export_standard(db, user.scope, out, actor=user.actor())
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(out.iterdir()):
                z.write(path, path.name)
    stamp = datetime.now(JST).strftime("%Y%m%d%H%M")
    name = f"kikan-standard-{user.scope}-{stamp}.zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/it/conformance", response_class=HTMLResponse)
def conformance_page(request: Request, user: UserDep, db: DbDep) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("residents.conformance_check"))
    return shell.render(
        request, user, "conformance.html", title="適合性検査", report=None, source="", error=""
    )


@router.post("/it/conformance", response_class=HTMLResponse)
async def conformance_run(request: Request, user: UserDep, form: FormDep) -> HTMLResponse:
    """Check uploaded files, or (no files) a fresh export of this tenant's register."""
    db = shell.get_db(request)
    await shell.run_in_threadpool(
        shell.uses, db, user, FUNCTIONS.entry("residents.conformance_check")
    )
    uploads = [f for f in form.getlist("files") if not isinstance(f, str) and f.filename]
    with tempfile.TemporaryDirectory(prefix="kikan-ui-check-") as tmp:
        folder = Path(tmp)
        paths: list[Path] = []
        if uploads:
            source = "アップロードされたファイル"
            total = 0
            for up in uploads:
                data = await up.read()
                total += len(data)
                if total > MAX_UPLOAD:
                    return shell.render(
                        request,
                        user,
                        "conformance.html",
                        status=413,
                        title="適合性検査",
                        report=None,
                        source="",
                        error="ファイルが大きすぎます（合計200MBまで）。",
                    )
                target = folder / Path(up.filename or "file.csv").name
                target.write_bytes(data)
                paths.append(target)
        else:
            source = "この団体の標準データ出力（その場で作成）"
            await shell.run_in_threadpool(
                export_standard, db, user.scope, folder, actor=user.actor()
            )
            paths = sorted(p for p in folder.glob("*.csv"))
        report = await shell.run_in_threadpool(check_files, LAYOUT, paths)
    await shell.run_in_threadpool(
        audit.append_now,
        db,
        user.scope,
        user.actor(),
        audit.AuditEvent(
            category="operation",
            action="inquiry",
            function=FUNCTIONS.entry("residents.conformance_check"),
            screen="適合性検査",
            detail={"files": len(paths), "errors": report.error_count, "uploaded": bool(uploads)},
        ),
    )
    return shell.render(
        request,
        user,
        "conformance.html",
        title="適合性検査",
        report=report,
        source=source,
        error="",
        findings=report.findings[:200],
    )


@cache
def conformance_map() -> dict[str, Any]:
    with CONFORMANCE_MAP.open("rb") as f:
        return tomllib.load(f)


@router.get("/it/functions", response_class=HTMLResponse)
def function_map(
    request: Request, user: UserDep, db: DbDep, status: Annotated[str, Chars(20)] = ""
) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("residents.function_map"))
    data = conformance_map()
    sections = [s for s in data["section"] if not status or s["status"] == status]
    return shell.render(
        request,
        user,
        "functions.html",
        title="機能ID対応表",
        sections=sections,
        spec=data["spec"],
        status_filter=status,
        status_labels=STATUS_LABELS,
    )
