"""`kikan seal …` verbs: connect 印鑑登録 to the linkage API and pull the 宛名 (the kit's
`connect` and `sync`, ADR 0012)."""

from __future__ import annotations

import typer

from kikan.linkage.consumer.cli import add_consumer_commands
from kikan.seal.service.replica import CONSUMER

seal_app = typer.Typer(no_args_is_help=True, help="印鑑登録")
add_consumer_commands(
    seal_app,
    CONSUMER,
    sync_help="宛名を全件・差分で取り込み、転出・死亡・氏名変更などを印鑑登録に反映する。",
)
