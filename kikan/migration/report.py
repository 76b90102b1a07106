"""The cleansing report of an import: HTML and Excel (openpyxl).

Contents: totals per file (rows, imported, rejected), counts per rule (cleansing fixes applied and
rejection rules), every rejected row with its Japanese reason, and the 外字 worklist: each
unmapped 外字 with its occurrences and ranked MJ candidates.

How candidates are ranked (外字同定): the unmapped character sits in a name whose フリガナ is known.
Persons already on the register with the same reading and a name of the same length that agrees
in every other character (compared by search key, so 異体字 agree) suggest the character at the
外字's position; candidates are ranked by how many such persons use them, and every candidate's
curated 異体字 are offered next to it. Only characters in the MJ repertoire are proposed. It is
a worklist for a person: the final 同定 is a human decision recorded in the vendor table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select

from kikan.migration.module import FUNCTIONS
from kikan.migration.records import CLEANSING_LABELS
from kikan.migration.store import ImportFileRow, ImportRejectRow
from kikan.moji import in_mj_repertoire, kanji_key_char, search_key
from kikan.moji.repertoire import pua_area
from kikan.moji.variants import curated_variants
from kikan.platform import audit
from kikan.platform.uow import Database
from kikan.residents.bulk import family_names_by_reading

RULE_LABELS = {
    "encoding": "文字コードの誤り",
    "truncated": "行の途中切れ",
    "length": "固定長の長さの誤り",
    "columns": "列数の不足",
    "required": "必須項目の空欄",
    "code.unknown": "対応表にないコード",
    "gaiji.unmapped": "外字表にない外字",
    "person.duplicate": "同一人物の重複",
    "household.two_heads": "世帯主の重複",
    "gaiji.not_mj": "外字表の変換先がMJにない文字・異体字シーケンス",
    "name.split": "氏名を氏と名に分けられない",
    "atena_number.check_digit": "宛名番号の検査数字の誤り",
    "atena_number.duplicate": "ファイル内で宛名番号が重複",
    "atena_number.used": "宛名番号が他の住民に使用済み",
    "household_number.check_digit": "世帯番号の検査数字の誤り",
    "household_number.used": "世帯番号が使用済み",
    "person.present": "取込済みの住民（再実行・修正版のファイル）",
    "household.partly_present": "世帯の一部が取込済み",
}
OUTCOMES = {"rejected": "不採用", "worklist": "作業リスト", "present": "取込済み"}


@dataclass
class GaijiWork:
    char: str
    sjis: str
    occurrences: int = 0
    examples: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    candidates: list[tuple[str, int]] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)  # MJ candidates found while importing


@dataclass
class Report:
    tenant: str
    files: list[dict[str, Any]]
    rules: list[tuple[str, str, str, int]]  # (kind, rule, label, count)
    rejects: list[dict[str, Any]]
    gaiji: list[GaijiWork]


def _mark(text: str) -> str:
    """Show where an unmapped 外字 sits (a PUA character is invisible in most fonts)."""
    return "".join("〓" if pua_area(ord(c)) else c for c in text)


def _variants_of(char: str) -> list[str]:
    key = kanji_key_char(char)
    return sorted(v for v, k in curated_variants().items() if k == key and v != char) + (
        [key] if key != char else []
    )


def _candidates(work: GaijiWork, occurrences: list[dict[str, Any]], names: list[list[str]]) -> None:
    """Rank candidates for one 外字 from names on the register with the same reading."""
    votes: Counter[str] = Counter()
    for occ, reading_names in zip(occurrences, names, strict=False):
        text, pos = occ["text"], occ["pos"]
        for name in reading_names:
            if len(name) != len(text):
                continue
            if all(
                i == pos or search_key(a) == search_key(b)
                for i, (a, b) in enumerate(zip(name, text, strict=True))
            ):
                votes[name[pos]] += 1
    ranked = [(ch, n) for ch, n in votes.most_common() if in_mj_repertoire(ch)]
    seen = {ch for ch, _n in ranked}
    for ch, _n in list(ranked):
        for cand in _variants_of(ch):
            if cand not in seen and in_mj_repertoire(cand):
                ranked.append((cand, 0))  # an 異体字 nobody on the register uses yet
                seen.add(cand)
    work.candidates = ranked[:10]


def build(db: Database, tenant: str, shas: list[str]) -> Report:
    with db.unit_of_work(tenant) as uow:
        files: list[dict[str, Any]] = [
            {
                "name": f.name,
                "sha256": f.file_sha256,
                "total": f.total_rows or 0,
                "imported": f.imported,
                "rejected": f.rejected,
                "present": f.present,
                "worklist": f.worklist,
                "status": f.status,
                "cleansing": dict(f.cleansing or {}),
            }
            for f in uow.session.scalars(
                select(ImportFileRow).where(ImportFileRow.file_sha256.in_(shas))
            )
        ]
        counts = uow.session.execute(
            select(ImportRejectRow.rule, func.count())
            .where(ImportRejectRow.file_sha256.in_(shas))
            .group_by(ImportRejectRow.rule)
            .order_by(ImportRejectRow.rule)
        ).all()
        rejects: list[dict[str, Any]] = [
            {
                "file": r.file_sha256[:12],
                "row_no": r.row_no,
                "rule": r.rule,
                "item": r.item,
                "reason": r.reason,
                "raw": r.raw,
                "detail": r.detail or {},
                "outcome": r.outcome,
            }
            for r in uow.session.scalars(
                select(ImportRejectRow)
                .where(ImportRejectRow.file_sha256.in_(shas))
                .order_by(ImportRejectRow.file_sha256, ImportRejectRow.row_no)
            )
        ]
        work: dict[str, GaijiWork] = {}
        occ_by_char: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rejects:
            for g in r["detail"].get("gaiji", []):
                w = work.setdefault(g["char"], GaijiWork(g["char"], g.get("sjis", "")))
                w.occurrences += 1
                w.rows.append(r["row_no"])
                if len(w.examples) < 5:
                    w.examples.append(f"{g['item']}「{_mark(g['text'])}」（{g.get('kana', '')}）")
                occ_by_char[g["char"]].append(g)
                for cand in g.get("candidates", []):  # proposed for a non-MJ table target
                    if cand not in w.proposed:
                        w.proposed.append(cand)
        for char, w in work.items():
            occs = occ_by_char[char][:50]
            names = [
                family_names_by_reading(uow, o["kana"])
                if o.get("kana") and o["field"] in ("family_name", "hittousha_family")
                else []
                for o in occs
            ]
            _candidates(w, occs, names)
            seen = {c for c, _n in w.candidates}
            w.candidates += [(c, 0) for c in w.proposed if c not in seen]
    cleansing: Counter[str] = Counter()
    for f in files:
        cleansing.update(f["cleansing"])
    rules = [("補正", k, CLEANSING_LABELS.get(k, k), n) for k, n in sorted(cleansing.items())]
    rules += [("不採用・作業リスト・取込済み", k, RULE_LABELS.get(k, k), n) for k, n in counts]
    return Report(
        tenant, files, rules, rejects, sorted(work.values(), key=lambda w: -w.occurrences)
    )


def _cp(text: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in text)


def write_html(report: Report, path: Path) -> None:
    env = Environment(autoescape=select_autoescape(default=True))
    env.globals["cp"] = _cp
    env.globals["outcomes"] = OUTCOMES
    template = resources.files("kikan.migration").joinpath("data/report.html.j2").read_text("utf-8")
    path.write_text(env.from_string(template).render(r=report), encoding="utf-8")


def write_xlsx(report: Report, path: Path) -> None:
    wb = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: list[str], rows: list[list[Any]], first: bool = False) -> None:
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        ws.title = title
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(row)

    sheet(
        "ファイル",
        ["ファイル", "sha256", "行数", "取込", "取込済み", "作業リスト", "不採用", "状態"],
        [
            [
                f["name"],
                f["sha256"],
                f["total"],
                f["imported"],
                f["present"],
                f["worklist"],
                f["rejected"],
                f["status"],
            ]
            for f in report.files
        ],
        first=True,
    )
    sheet("規則ごとの件数", ["区分", "規則", "内容", "件数"], [list(r) for r in report.rules])
    sheet(
        "外字作業リスト",
        ["外字", "コードポイント", "CP932", "出現数", "出現例", "MJ候補（順位順）"],
        [
            [
                g.char,
                g.char,
                g.sjis,
                g.occurrences,
                " / ".join(g.examples),
                " / ".join(f"{c}（{_cp(c)}）" for c, _n in g.candidates) or "候補なし",
            ]
            for g in report.gaiji
        ],
    )
    sheet(
        "不採用の行",
        ["ファイル", "行", "区分", "規則", "項目", "理由", "内容（個人番号は伏字）"],
        [
            [
                x["file"],
                x["row_no"],
                OUTCOMES.get(x["outcome"], x["outcome"]),
                x["rule"],
                x["item"],
                x["reason"],
                x["raw"],
            ]
            for x in report.rejects
        ],
    )
    wb.save(path)


def write_reports(
    db: Database, tenant: str, shas: list[str], out_dir: Path, *, actor: audit.Actor
) -> tuple[Path, Path, Report]:
    """Write report.html and report.xlsx; the output (it holds rejected rows) is audited."""
    report = build(db, tenant, shas)
    out_dir.mkdir(parents=True, exist_ok=True)
    html, xlsx = out_dir / "report.html", out_dir / "report.xlsx"
    write_html(report, html)
    write_xlsx(report, xlsx)
    audit.append_now(
        db,
        tenant,
        actor,
        audit.AuditEvent(
            category="operation",
            action="euc",
            function=FUNCTIONS.entry("migration.cleansing_report"),
            detail={"files": shas, "rejects": len(report.rejects), "gaiji": len(report.gaiji)},
        ),
    )
    return html, xlsx, report
