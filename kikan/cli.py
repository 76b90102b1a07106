"""The `kikan` command line entry point."""

import typer

app = typer.Typer(no_args_is_help=True, help="Kikan (基幹) 運用コマンド")
