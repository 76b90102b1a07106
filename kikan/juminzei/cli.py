"""`kikan juminzei …` verbs: connect 個人住民税 to 庁内データ連携 and pull the 宛名 (the consumer kit's
`connect` and `sync`, ADR 0012)."""

from __future__ import annotations

import typer

from kikan.juminzei.linkage import CONSUMER
from kikan.linkage.consumer.cli import add_consumer_commands

juminzei_app = typer.Typer(no_args_is_help=True, help="個人住民税")
add_consumer_commands(juminzei_app, CONSUMER, sync_help="宛名を全件・差分で取り込む。")
