"""`kikan certificate …` verbs of the resident register.

`kikan certificate issue` runs the same use case as the API (`issue_certificate`): requester
rules, 支援措置, 発行番号, issuance register, audit — and writes the PDF to a file. The actor is
the operating-system user (``cli:<user>``), like the platform's other commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kikan.platform.console import check_tenant, cli_actor, cli_errors, err, open_db, out
from kikan.platform.context import Context
from kikan.platform.crypto import load_keyring
from kikan.platform.settings import get_settings
from kikan.residents.certificates import CertificateRequest, Requester, issue_certificate

certificate_app = typer.Typer(no_args_is_help=True, help="証明書の発行")


@certificate_app.command("issue")
@cli_errors()
def issue(  # noqa: PLR0917 - typer maps each keyword to an option
    tenant: Annotated[str, typer.Option(help="団体コード")],
    atena: Annotated[str, typer.Option(help="証明する方の宛名番号")],
    kind: Annotated[
        str,
        typer.Option(
            help="juminhyo（世帯連記式）/ juminhyo_kojin / kisai_jikou / joshou / tenshutsu / "
            "juri_tsuchi"
        ),
    ],
    out_file: Annotated[Path, typer.Option("--out", help="PDF の出力先")],
    requester: Annotated[str, typer.Option(help="self / agent / official / third_party")] = "self",
    requester_atena: Annotated[
        str, typer.Option(help="本人確認した請求者（または委任者）の宛名番号。省略時は --atena")
    ] = "",
    requester_name: Annotated[str, typer.Option(help="代理人・請求機関・第三者の名称")] = "",
    purpose: Annotated[str, typer.Option(help="利用目的（第三者・公用は必須）")] = "",
    power_of_attorney: Annotated[
        bool, typer.Option("--power-of-attorney", help="委任状を確認した（代理人）")
    ] = False,
    member: Annotated[
        list[str] | None, typer.Option(help="記載する世帯員の宛名番号（複数指定可）")
    ] = None,
    include: Annotated[list[str] | None, typer.Option(help="記載する事項（複数指定可）")] = None,
    omit: Annotated[list[str] | None, typer.Option(help="省略する事項（複数指定可）")] = None,
) -> None:
    """証明書を発行して PDF ファイルに書き出す（交付履歴・アクセスログに記録）。"""
    actor = cli_actor()
    db = open_db()
    try:
        code = check_tenant(db, tenant)
        kind_value = requester if requester in ("self", "agent", "official", "third_party") else ""
        if not kind_value:
            raise typer.BadParameter("--requester は self / agent / official / third_party です。")
        issued = issue_certificate(
            db,
            code,
            Context(actor=actor, keyring=load_keyring(get_settings())),
            CertificateRequest(
                kind=kind,
                atena_number=atena,
                requester=Requester(
                    kind=kind_value,  # type: ignore[arg-type]
                    name=requester_name,
                    atena_number=requester_atena or (atena if kind_value == "self" else ""),
                    purpose=purpose,
                    power_of_attorney=power_of_attorney,
                ),
                members=member or [],
                include=include or [],
                omit=omit or [],
            ),
        )
    finally:
        db.dispose()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_bytes(issued.pdf)
    for warning in issued.warnings:
        err.print(f"[yellow]注意:[/] {warning}")
    out.print(
        f"[green]✓[/] {issued.form_name}（発行番号 {issued.issue_number}、{issued.pages} 枚）を "
        f"{out_file} に書き出しました。sha256 {issued.sha256}"
    )
