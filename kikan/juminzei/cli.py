"""`kikan juminzei …` verbs: connect 個人住民税 to 庁内データ連携 and pull the 宛名 (the consumer
kit's `connect` and `sync`, ADR 0012), and `calc`, the calculation engine on one JSON case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kikan.errors import InvalidError
from kikan.juminzei.calc import MunicipalityProfile, assess, parse_case, parse_municipality
from kikan.juminzei.linkage import CONSUMER
from kikan.juminzei.rules import load_rules, parse_fiscal_year
from kikan.linkage.consumer.cli import add_consumer_commands
from kikan.platform import console

juminzei_app = typer.Typer(no_args_is_help=True, help="個人住民税")
add_consumer_commands(juminzei_app, CONSUMER, sync_help="宛名を全件・差分で取り込む。")


def _read_json(path: Path, what: str) -> Any:
    """A JSON file's content; a missing or broken file is bad input (Japanese, exit 2)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError:
        raise InvalidError("juminzei.unreadable", f"{what}「{path}」を読めません", what) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidError(
            "juminzei.bad_json",
            f"{what}「{path}」は JSON として読めません（{exc.lineno}行{exc.colno}列）",
            what,
        ) from None


@juminzei_app.command(
    "calc", help="課税資料の JSON から税額を計算して JSON で出力する（データベースは使わない）。"
)
@console.cli_errors()
def calc_verb(
    year: Annotated[str, typer.Option("--year", help="年度（令和6 / R6 / 2024）")],
    input_path: Annotated[Path, typer.Option("--input", help="課税資料の JSON ファイル")],
    municipality_path: Annotated[
        Path | None,
        typer.Option("--municipality", help="団体の設定の JSON（指定都市・級地・超過課税）"),
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="結果の JSON の出力先（省略時は標準出力）")
    ] = None,
) -> None:
    fiscal_year = parse_fiscal_year(year)
    rules = load_rules(fiscal_year)
    data = _read_json(input_path, "課税資料")
    if not isinstance(data, dict):
        raise InvalidError("juminzei.bad_json", "課税資料は JSON のオブジェクトにしてください")
    embedded = data.pop("municipality", None)
    profile = MunicipalityProfile()
    if municipality_path is not None:
        profile = parse_municipality(_read_json(municipality_path, "団体の設定"))
    elif embedded is not None:
        profile = parse_municipality(embedded)
    result = assess(parse_case(data, fiscal_year), rules, profile).to_json()
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    if out_path is None:
        typer.echo(text, nl=False)
    else:
        out_path.write_text(text, encoding="utf-8")
