"""`kikan module new <name> --code <業務コード> --title <日本語名>`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kikan.modules import MODULES
from kikan.platform import console
from kikan.scaffold.generate import next_steps, scaffold

module_app = typer.Typer(no_args_is_help=True, help="業務モジュールの開発")
REPO_ROOT = Path(__file__).resolve().parents[2]


@module_app.command("new")
@console.cli_errors()
def new(
    name: Annotated[str, typer.Argument(help="モジュール名（Python の識別子、例: atena）")],
    code: Annotated[str, typer.Option("--code", help="標準の業務コード（3桁）")],
    title: Annotated[str, typer.Option("--title", help="業務の日本語名（例: 宛名管理）")],
    root: Annotated[Path, typer.Option(help="リポジトリのルート")] = REPO_ROOT,
) -> None:
    """新しい業務モジュールの雛形（4つの部屋、設定、記述子、移行ブランチ、試験）を作る。"""
    done = scaffold(root, name=name, code=code, title=title, registered=MODULES)
    for path in done.files:
        console.out.print(f"[green]作成[/] {path.relative_to(root)}")
    console.out.print(
        f"移行ブランチ {name}（最初の版 {done.revision}、"
        f"プラットフォームの {done.depends_on} に依存）"
    )
    console.out.print("次の手順（自動では編集しません）:")
    for step in next_steps(done):
        console.out.print(f"  - {step}", soft_wrap=True)
