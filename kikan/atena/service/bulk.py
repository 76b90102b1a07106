"""一括登録: 住登外者 from a CSV file (e.g. a tax office's list of non-resident landowners).

Every row is accounted for: it is registered (a new 宛名番号, or a new state of the 宛名番号 it
names — 処理区分 1), or rejected with its line number and the Japanese reasons, nothing of it
written. A batch cannot stop to ask about candidates, so a row whose person resembles someone
known is numbered all the same and the pair goes to the 名寄せ worklist, where staff decide
(the rules never link automatically on less than 個人番号 and all four attributes).

The header names the items by layout code (`family_name`) or Japanese name (`氏`), in any order;
unknown columns are refused before any row is read. Each row runs in a savepoint of the one
transaction: a rejected row leaves nothing behind, accepted rows commit together.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kikan.atena import domain
from kikan.atena.service import register
from kikan.atena.service.common import log
from kikan.errors import DomainError, InvalidError
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork

ENCODINGS = ("utf-8-sig", "cp932")


@dataclass(frozen=True)
class ImportJutogai:
    path: Path
    gyomu_id: str = ""
    progress: Callable[[int], None] | None = None


@dataclass
class ImportReport:
    total: int = 0
    numbered: list[tuple[int, str]] = field(default_factory=list)
    updated: list[tuple[int, str]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def accounted(self) -> bool:
        return len(self.numbered) + len(self.updated) + len(self.rejected) == self.total


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    raw = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidError(
            "atena.encoding", "ファイルの文字コードは UTF-8 か Shift_JIS にしてください。"
        )
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise InvalidError("atena.empty", "ファイルに見出し行がありません。")
    return rows[0], rows[1:]


def _columns(header: list[str]) -> list[str]:
    group = domain.jutogai_group()
    codes: list[str] = []
    unknown: list[str] = []
    for raw in header:
        name = raw.strip()
        item = group.find(name)
        if name == "atena_number" or (item is not None and item.code == "atena_number"):
            codes.append("atena_number")
        elif item is not None and item.code not in domain.SYSTEM_ITEMS:
            codes.append(item.code)
        else:
            unknown.append(name)
    if unknown:
        raise InvalidError(
            "atena.header", f"見出しに使えない項目があります: {'、'.join(unknown)}", item="見出し"
        )
    return codes


def _rows(codes: list[str], body: list[list[str]]) -> Iterator[tuple[int, dict[str, str], bool]]:
    """(line number, values, whether the row has the header's width); blank lines skipped."""
    for offset, cells in enumerate(body, start=2):
        if not any(c.strip() for c in cells):
            continue
        yield offset, dict(zip(codes, cells, strict=False)), len(cells) == len(codes)


def import_jutogai(uow: UnitOfWork, ctx: Context, command: ImportJutogai) -> ImportReport:
    header, body = _read(command.path)
    codes = _columns(header)
    report = ImportReport()
    for line, values, whole in _rows(codes, body):
        report.total += 1
        if not whole:
            report.rejected.append((line, f"列の数が見出しと違います（{len(codes)}列）。"))
            continue
        number = values.pop("atena_number", "").strip()
        if command.gyomu_id and not values.get("gyomu_id"):
            values["gyomu_id"] = command.gyomu_id
        fuban = register.Fuban(
            shori_kubun=register.EXISTING if number else register.NEW,
            values=values,
            requester=f"import:{ctx.actor.id}",
            atena_number=number,
            search_id="",
        )
        try:
            with uow.session.begin_nested():
                result = register.fuban_unattended(uow, ctx, fuban)
        except domain.AtenaInputError as exc:
            report.rejected.append((line, " ".join(e.message for e in exc.errors)))
        except DomainError as exc:
            report.rejected.append((line, exc.message))
        else:
            target = report.updated if number else report.numbered
            target.append((line, result.atena_number))
        if command.progress is not None:
            command.progress(report.total)
    log(uow, ctx.actor, "atena.jutogai_import", "import",
        detail={"file": command.path.name, "total": report.total,
                "numbered": len(report.numbered), "updated": len(report.updated),
                "rejected": len(report.rejected)})  # fmt: skip
    return report


def write_rejects(report: ImportReport, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行", "理由"])
        writer.writerows(report.rejected)
