"""Turn what was read from the register (a `Plan`) into the forms engine's `FormDocument`.

Pure functions over frozen values: no database, no clock, no shared state. The service reads one
snapshot of the register into a `Plan`, takes a 発行番号 and calls `build(plan, number)`; what is
printed therefore depends only on the plan and the number, never on another request.

Formatting rules live here, not in the engine (ADR 0004): 和暦 for every date of the register,
西暦 for a foreign resident's birth date and 在留期間の満了の日 (spec 1.1.9); 方書 always with
the address (spec 5.4); フリガナ in brackets after the name when asked (spec 5.3).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from kikan.calendar import DateError, RegisterDate
from kikan.forms import Certification, FormDocument, FormOptions
from kikan.residents.certificates.rules import Kind, Requester, Selection
from kikan.residents.domain import ForeignResident, Snapshot, Status, in_calendar
from kikan.standard.codes import code_table

SEX = {"1": "男", "2": "女", "9": "その他", "0": "不明"}


@dataclass(frozen=True)
class HistoryLine:
    """One 異動 of a person, for the 履歴 item (spec 5.1 履歴の有無)."""

    valid_from: date
    reason: str


@dataclass(frozen=True)
class Member:
    """A certified person as read from the snapshot: the entry and what the history adds."""

    snapshot: Snapshot
    notified: date | None
    history: tuple[HistoryLine, ...] = ()
    my_number: str = ""  # decrypted only when the item was requested and allowed


@dataclass(frozen=True)
class Certifier:
    """認証者 (spec 1.3.9, 5.6): title with the prefecture, name, 公印 image, fixed phrase."""

    title: str
    name: str
    seal_png: bytes | None
    notice: str


@dataclass(frozen=True)
class Plan:
    """Everything a certificate prints, read in one snapshot and bound to one request."""

    kind: Kind
    members: tuple[Member, ...]
    all_members: bool
    address: str
    householder: str
    selection: Selection
    requester: Requester
    certifier: Certifier
    issue_date: date
    official: bool = False
    reissue: bool = False
    move: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def subject_refs(self) -> list[str]:
        return [m.snapshot.atena_number for m in self.members]


def register_text(value: str, *, seireki: bool = False) -> str:
    """A stored register date (RegisterDate storage or ISO) as printed: 和暦 unless `seireki`."""
    if not value:
        return ""
    try:
        rd = RegisterDate.from_storage(value)
    except DateError:
        try:
            rd = RegisterDate.from_date(date.fromisoformat(value))
        except ValueError:
            return value  # free text recorded as is (never dropped)
    return in_calendar(rd, seireki=seireki).display()


def day_text(day: date | None) -> str:
    return register_text(day.isoformat()) if day else ""


def _label(table: str, value: str) -> str:
    t = code_table(table)
    if t.has(value):
        return t.label(value)
    return value


def is_foreign(s: Snapshot) -> bool:
    return s.resident_kind == "2"


def effectively_removed(s: Snapshot, today: date) -> bool:
    """Off the register for certificates: 消除, or 転出予定 whose 転出予定日 has come (spec 1.1.5:
    転出 removes on the planned date, or the earlier 転入通知 date)."""
    if not s.status.is_active:
        return True
    if s.status is Status.MOVING_OUT and s.move_out is not None:
        try:
            return date.fromisoformat(s.move_out.planned_date) <= today
        except ValueError:
            return False
    return False


def display_name(s: Snapshot, *, furigana: bool) -> str:
    """氏名 as printed: foreign residents' alphabet name first, then the kanji name (spec 5.3)."""
    if is_foreign(s):
        parts = [p for p in (s.roman_name, s.foreign_kanji_name) if p]
        text = "　".join(parts) if parts else s.full_name
    else:
        text = s.full_name
    if furigana and s.full_kana:
        text = f"{text}　（{s.full_kana}）"
    return text


def _previous_address(s: Snapshot) -> str:
    prev = s.previous_address or s.prior_address
    return prev.text() if prev is not None else ""


def _removal(s: Snapshot, today: date) -> str:
    if s.status.is_active and s.move_out is not None:
        planned = register_text(s.move_out.planned_date)
        return f"{planned}　転出（予定）　転出先　{s.move_out.destination.text()}"
    if s.status.is_active:
        return ""
    text = f"{register_text(s.removal_date)}　{s.removal_reason or s.status.label}"
    if s.move_out is not None:
        label = "転出先" if s.move_out.confirmed else "転出先（予定）"
        text += f"　{label}　{s.move_out.destination.text()}"
    return text


def _foreign_items(f: ForeignResident, items: frozenset[str]) -> dict[str, str]:
    """外国人住民の記載事項 (spec 5.1: each may be left out); 満了の日 in 西暦 (spec 1.1.9)."""
    e: dict[str, str] = {}
    if "nationality" in items:
        e["nationality"] = _label("country", f.nationality)
    if "foreign_kind" in items:
        e["foreign_kind"] = _label("article_30_45", f.article_30_45)
        e["became_foreign"] = register_text(f.became_foreign_resident)
    if "status_of_residence" in items:
        e["status_of_residence"] = _label("zairyu_shikaku", f.status_of_residence)
        e["period_of_stay"] = f.period_of_stay
        e["expiry_date"] = register_text(f.expiry_date, seireki=True)
    if "card_number" in items:
        e["card_number"] = f.card_number
    return e


def person_entry(m: Member, plan: Plan) -> dict[str, str]:
    """One entry's values. Items not selected are left out (the engine leaves the box empty
    or, for optional rows, drops the row)."""
    s, items = m.snapshot, plan.selection.items
    foreign = is_foreign(s)
    furigana = "furigana" in items
    e: dict[str, str] = {
        "name": display_name(s, furigana=furigana),
        "birth_date": register_text(s.birth_date, seireki=foreign),
        "sex": SEX.get(s.sex, s.sex),
        "became_resident": register_text(s.became_resident_date),
        "address_set": register_text(s.address_set_date),
        "notified": day_text(m.notified),
        "previous_address": _previous_address(s),
    }
    if "householder" in items:
        e["relationship"] = s.zokugara
    if "honseki" in items and s.honseki is not None and not foreign:
        e["honseki"] = s.honseki.text()
        e["hittousha"] = f"{s.honseki.head_family_name}　{s.honseki.head_given_name}".strip("　")
    if "kyuuji" in items and s.kyuuji and not foreign:
        e["kyuuji"] = f"{s.kyuuji}　（{s.kyuuji_kana}）" if furigana and s.kyuuji_kana else s.kyuuji
    if "tsuushou" in items and s.tsuushou:
        e["tsuushou"] = (
            f"{s.tsuushou}　（{s.tsuushou_kana}）" if furigana and s.tsuushou_kana else s.tsuushou
        )
    if foreign and s.foreign is not None:
        e.update(_foreign_items(s.foreign, items))
    if "resident_code" in items:
        e["resident_code"] = s.juminhyo_code
    if "my_number" in items and m.my_number:
        e["my_number"] = m.my_number
    if plan.kind.removed == "only":
        e["removal"] = _removal(s, plan.issue_date)
    if "history" in items and m.history:
        e["remarks"] = "　".join(f"{day_text(h.valid_from)} {h.reason}" for h in m.history)
    return e


def move_entry(m: Member, plan: Plan) -> dict[str, str]:
    """An entry of 転出証明書 / 受理通知: the person who moved."""
    s = m.snapshot
    foreign = is_foreign(s)
    e = {
        "name": display_name(s, furigana=True),
        "birth_date": register_text(s.birth_date, seireki=foreign),
        "sex": SEX.get(s.sex, s.sex),
        "relationship": s.zokugara,
    }
    if plan.kind.code == "tenshutsu":
        e["resident_code"] = s.juminhyo_code
        if foreign and s.foreign is not None:
            f = s.foreign
            parts = [
                f"国籍・地域 {_label('country', f.nationality)}",
                f"区分 {_label('article_30_45', f.article_30_45)}",
            ]
            if f.status_of_residence:
                parts.append(f"在留資格 {_label('zairyu_shikaku', f.status_of_residence)}")
            if f.period_of_stay:
                parts.append(f"在留期間等 {f.period_of_stay}")
            if f.expiry_date:
                parts.append(f"満了の日 {register_text(f.expiry_date, seireki=True)}")
            if f.card_number:
                parts.append(f"在留カード等番号 {f.card_number}")
            e["foreign"] = "　".join(parts)
    return e


def build(plan: Plan, issue_number: str) -> FormDocument:
    """The document for the engine. Same plan and number → same document."""
    kind = plan.kind
    text = kind.text_all if plan.all_members else kind.text_part
    certification = Certification(
        text=text,
        issue_date=plan.issue_date,
        certifier_title=plan.certifier.title,
        certifier_name=plan.certifier.name,
        seal_png=plan.certifier.seal_png,
        notice=plan.certifier.notice,
    )
    options = FormOptions(official_use=plan.official)
    if kind.code in ("tenshutsu", "juri_tsuchi"):
        header = {k: v for k, v in plan.move.items() if v}
        entries: Sequence[Mapping[str, str]] = [move_entry(m, plan) for m in plan.members]
    else:
        header = {"address": plan.address}
        if "householder" in plan.selection.items and plan.householder:
            header["householder"] = plan.householder
        entries = [person_entry(m, plan) for m in plan.members]
    return FormDocument(
        header=header,
        entries=entries,
        certification=certification,
        issue_number=issue_number,
        options=options,
    )
