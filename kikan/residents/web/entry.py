"""異動 entry screens: 転入 (family), 出生, 転居, 転出, 転出確定, 死亡, 世帯主変更, 世帯分離・変更・
合併, 職権記載, 職権消除, 修正（誤記修正・職権修正・軽微な修正）and 異動の取消し.

Every screen follows one flow: 入力 → 確認 → 登録 → 受理通知 and follow-on checklist.

- Validation is the service's: the 確認 step runs the whole use case in a unit of work and rolls it
  back (a dry run), and each person's items go through `domain.validate_person` first so that a
  problem lands next to the right person's field. Templates hold no rules.
- 書かない窓口: a screen can be pre-filled from the register (`?atena=` loads the household) and
  from the four 券面事項 of a My Number card (氏名, 住所, 生年月日, 性別) pasted as JSON or typed.
- 修正 and 異動の取消し work on one person (`?atena=`) and carry the person's version from the
  screen's opening: when someone else changed the person meanwhile, the service's 409 is shown
  as it is and nothing is written.
- Each screen opening starts a counter-transaction timing (kikan.web); 登録 completes it in the
  same transaction as the 異動. The open timing is also the form's one-time token: a second
  登録 of the same screen (reload, double click) is refused instead of entering persons twice.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from kikan.calendar import RegisterDate
from kikan.platform import audit, tenancy
from kikan.platform.errors import KikanError
from kikan.platform.types import Chars
from kikan.platform.uow import Scope, UnitOfWork
from kikan.residents import service
from kikan.residents.domain import (
    Address,
    OtherAddress,
    PersonInput,
    Reason,
    RegisterError,
    Snapshot,
    validate_person,
)
from kikan.residents.web.common import WRITE_ROLES, Outcome, context, run
from kikan.web import shell
from kikan.web.shell import DbDep, FormDep, NavItem, UserDep

router = APIRouter()
NAV = NavItem("転入届", "/ui/residents/entry/move-in", roles=WRITE_ROLES, accesskey="n", order=20)
FOLLOWUPS = Path(__file__).resolve().parent / "followups.toml"
MAX_MEMBERS = 10

# ---------------------------------------------------------------- field labels

#: member field → the item name the domain uses in its messages
MEMBER_FIELDS = {
    "family_name": "氏",
    "given_name": "名",
    "family_name_kana": "氏フリガナ",
    "given_name_kana": "名フリガナ",
    "birth_date": "生年月日",
    "sex": "性別",
    "zokugara": "続柄",
    "my_number": "個人番号",
}
ADDRESS_FIELDS = {
    "postal_code": "郵便番号",
    "prefecture": "都道府県",
    "city": "市区町村",
    "town": "町字",
    "banchi": "番地",
    "katagaki": "方書",
}
#: form field → item name, for the fields outside persons and addresses
PLAIN_FIELDS = {
    "move_date": "異動日",
    "notified_date": "届出日",
    "planned_date": "転出予定年月日",
    "moved_date": "異動日",
    "death_date": "死亡年月日",
    "change_date": "異動日",
    "household": "世帯番号",
    "target_household": "世帯番号",
    "join_household": "世帯番号",
    "atena": "異動者",
    "person": "宛名番号",
    "reason": "異動事由",
    "note": "備考",
}
#: 修正 items the screen offers (a subset of the service's CORRECTABLE: the one-line items;
#: 本籍, 外国人住民の事項 and 世帯の構成 are corrected through the API), plus 住所 below
CORRECT_FIELDS = {
    "family_name": "氏",
    "given_name": "名",
    "family_name_kana": "氏フリガナ",
    "given_name_kana": "名フリガナ",
    "name_furigana": "氏名の振り仮名",
    "roman_name": "氏名（ローマ字）",
    "foreign_kanji_name": "氏名（外国人漢字）",
    "birth_date": "生年月日",
    "sex": "性別",
    "district_code": "地区管理コード",
}
assert set(CORRECT_FIELDS) | {"address"} <= service.CORRECTABLE
SEX = {"1": "男", "2": "女", "9": "その他", "0": "不明"}


@dataclass(frozen=True)
class Kind:
    slug: str
    title: str
    function: str
    #: which parts the screen shows: members (new persons), address, prior, dest, pick (who
    #: of the household), zokugara (new 続柄 per member), target
    parts: frozenset[str]
    dates: tuple[tuple[str, str], ...]
    single_pick: bool = False
    #: the 異動事由 the screen lets staff choose (the first is the default)
    reasons: tuple[str, ...] = ()
    #: whether the 完了 step prints a 住民異動届受理通知 (only for a 届出, not for 職権 or 修正)
    receipt: bool = True

    @property
    def multi(self) -> bool:
        """Several new persons on one screen (転入, 職権記載)."""
        return "multi" in self.parts

    @property
    def on_person(self) -> bool:
        """The screen works on one existing person (修正, 異動の取消し)."""
        return "person" in self.parts


KINDS = {
    k.slug: k
    for k in (
        Kind(
            "move-in",
            "転入",
            "転入",
            frozenset({"members", "multi", "address", "prior", "join"}),
            (("move_date", "異動日（転入した日）"), ("notified_date", "届出日")),
            reasons=("国内転入", "国外転入等"),
        ),
        Kind(
            "birth",
            "出生",
            "出生",
            frozenset({"members", "household"}),
            (("notified_date", "届出日"),),
        ),
        Kind(
            "move-within",
            "転居",
            "転居",
            frozenset({"address", "household"}),
            (("move_date", "異動日（転居した日）"), ("notified_date", "届出日")),
        ),
        Kind(
            "move-out",
            "転出",
            "転出",
            frozenset({"pick", "dest", "household"}),
            (("planned_date", "転出予定年月日"), ("notified_date", "届出日")),
        ),
        Kind(
            "move-out-confirm",
            "転出確定",
            "転出確定",
            frozenset({"pick", "household"}),
            (("moved_date", "異動日（転出した日）"),),
        ),
        Kind(
            "death",
            "死亡",
            "死亡",
            frozenset({"pick", "household"}),
            (("death_date", "死亡年月日"), ("notified_date", "届出日")),
            single_pick=True,
        ),
        Kind(
            "head-change",
            "世帯主変更",
            "世帯主変更",
            frozenset({"zokugara", "household"}),
            (("change_date", "異動日"), ("notified_date", "届出日")),
        ),
        Kind(
            "household-split",
            "世帯分離",
            "世帯分離",
            frozenset({"pick", "zokugara", "household"}),
            (("change_date", "異動日"), ("notified_date", "届出日")),
        ),
        Kind(
            "household-change",
            "世帯変更",
            "世帯変更",
            frozenset({"pick", "zokugara", "household", "target"}),
            (("change_date", "異動日"), ("notified_date", "届出日")),
        ),
        Kind(
            "household-merge",
            "世帯合併",
            "世帯合併",
            frozenset({"zokugara", "household", "target"}),
            (("change_date", "異動日"), ("notified_date", "届出日")),
        ),
        Kind(
            "ex-officio-entry",
            "職権記載",
            "職権記載",
            frozenset({"members", "multi", "address", "prior", "join", "note"}),
            (("entry_date", "異動日（職権記載の日）"), ("notified_date", "届出日")),
            reasons=tuple(r.value for r in service.EX_OFFICIO_ENTRY_REASONS),
            receipt=False,
        ),
        Kind(
            "ex-officio-removal",
            "職権消除",
            "職権消除",
            frozenset({"pick", "household", "note"}),
            (("removal_date", "異動日（消除の日）"), ("notified_date", "届出日")),
            reasons=tuple(r.value for r in service.EX_OFFICIO_REMOVAL_REASONS),
            receipt=False,
        ),
        Kind(
            "correct",
            "修正",
            "修正",
            frozenset({"person", "correct", "note"}),
            (),
            reasons=tuple(r.value for r in service.CORRECTION_REASONS),
            receipt=False,
        ),
        Kind(
            "cancel",
            "異動の取消し",
            "異動の取消し",
            frozenset({"person", "note"}),
            (),
            receipt=False,
        ),
    )
}


def _kind(slug: str) -> Kind:
    found = KINDS.get(slug)
    if found is None:
        raise shell.PageForbidden("この異動の画面はありません。", status=404)
    return found


# ---------------------------------------------------------------- form values


@dataclass
class Values:
    """The screen's values as plain strings (what the form shows and posts back)."""

    one: dict[str, str] = field(default_factory=dict)
    picked: list[str] = field(default_factory=list)
    members: int = 1

    @classmethod
    def from_form(cls, form: FormData) -> Values:
        one = {
            k: str(v)
            for k, v in form.multi_items()
            if k not in ("atena", shell.CSRF_FIELD, "action")
            and not k.startswith("card_")
            and isinstance(v, str)
        }
        try:
            members = int(one.pop("members", "1") or "1")
        except ValueError:
            members = 1
        picked = [str(v) for v in form.getlist("atena")]
        return cls(one, picked, max(1, min(members, MAX_MEMBERS)))

    def get(self, key: str, default: str = "") -> str:
        return self.one.get(key, default).strip()


def _address(v: Values, prefix: str) -> Address:
    return Address(
        **{k: v.get(f"{prefix}_{k}") for k in ADDRESS_FIELDS},
        city_code=v.get(f"{prefix}_city_code"),
        town_code=v.get(f"{prefix}_town_code"),
    )


def _other(v: Values, prefix: str) -> OtherAddress | None:
    country = v.get(f"{prefix}_country_code")
    foreign = v.get(f"{prefix}_foreign_address")
    domestic = any(v.get(f"{prefix}_{k}") for k in ADDRESS_FIELDS)
    unreported = v.get(f"{prefix}_unreported") == "1"
    if country or foreign:
        return OtherAddress(country_code=country, foreign_address=foreign)
    if domestic:
        return OtherAddress(address=_address(v, prefix), unreported=unreported)
    return None


def _person(v: Values, i: int) -> PersonInput:
    p = f"m{i}_"
    return PersonInput(
        family_name=v.get(p + "family_name"),
        given_name=v.get(p + "given_name"),
        family_name_kana=v.get(p + "family_name_kana"),
        given_name_kana=v.get(p + "given_name_kana"),
        birth_date=v.get(p + "birth_date"),
        sex=v.get(p + "sex") or "9",
        zokugara=v.get(p + "zokugara"),
    )


def _zokugara(v: Values, only: list[str] | None = None) -> dict[str, str]:
    out = {}
    for key, value in v.one.items():
        if key.startswith("z_") and value.strip():
            atena = key[2:]
            if only is None or atena in only:
                out[atena] = value.strip()
    return out


# ---------------------------------------------------------------- building the use case


UseCase = Callable[[UnitOfWork, service.Context], service.ChangeResult]


def _use_case(kind: Kind, v: Values) -> UseCase:  # noqa: PLR0911, PLR0912 - one branch per 異動
    """The service call for the screen's values. Raises RegisterError/ValidationError."""
    hh = v.get("household")
    notified = v.get("notified_date") or None
    if kind.slug == "move-in":
        movers = [
            service.Mover(_person(v, i), v.get(f"m{i}_my_number") or None) for i in range(v.members)
        ]
        address, prior = _address(v, "addr"), _other(v, "prior")
        reason = Reason(v.get("reason") or Reason.DOMESTIC_MOVE_IN.value)
        join = v.get("join_household") or None
        return lambda uow, ctx: service.move_in(
            uow,
            ctx,
            movers=movers,
            address=address,
            prior_address=prior,
            move_date=v.get("move_date"),
            notified_date=notified,
            reason=reason,
            join_household=join,
        )
    if kind.slug == "ex-officio-entry":
        movers = [
            service.Mover(_person(v, i), v.get(f"m{i}_my_number") or None) for i in range(v.members)
        ]
        address, prior = _address(v, "addr"), _other(v, "prior")
        reason = Reason(v.get("reason") or kind.reasons[0])
        join = v.get("join_household") or None
        return lambda uow, ctx: service.enter_ex_officio(
            uow,
            ctx,
            movers=movers,
            address=address,
            prior_address=prior,
            entry_date=v.get("entry_date"),
            notified_date=notified,
            reason=reason,
            join_household=join,
            note=v.get("note"),
        )
    if kind.on_person:
        return _person_use_case(kind, v)
    if kind.slug == "household-merge":
        z = _zokugara(v)
        return lambda uow, ctx: service.merge_households(
            uow,
            ctx,
            household_number=v.get("target_household"),
            merging_household_number=hh,
            zokugara=z,
            change_date=v.get("change_date"),
            notified_date=notified,
        )
    if kind.slug == "birth":
        person = _person(v, 0)
        return lambda uow, ctx: service.record_birth(
            uow, ctx, household_number=hh, person=person, notified_date=notified
        )
    if kind.slug == "move-within":
        address = _address(v, "addr")
        return lambda uow, ctx: service.move_within(
            uow,
            ctx,
            household_number=hh,
            address=address,
            move_date=v.get("move_date"),
            notified_date=notified,
        )
    if not v.picked and "pick" in kind.parts:
        raise RegisterError("pick.none", "異動する人を一人以上選んでください。", "異動者")
    if kind.slug == "move-out":
        dest = _other(v, "dest")
        if dest is None:
            raise RegisterError("dest.required", "転出先住所を入力してください。", "転出先住所")
        return lambda uow, ctx: service.plan_move_out(
            uow,
            ctx,
            atena_numbers=v.picked,
            destination=dest,
            planned_date=v.get("planned_date"),
            notified_date=v.get("notified_date"),
        )
    if kind.slug == "ex-officio-removal":
        reason = Reason(v.get("reason") or kind.reasons[0])
        return lambda uow, ctx: service.remove_ex_officio(
            uow,
            ctx,
            atena_numbers=v.picked,
            removal_date=v.get("removal_date"),
            reason=reason,
            notified_date=notified,
            note=v.get("note"),
        )
    if kind.slug == "move-out-confirm":
        return lambda uow, ctx: service.confirm_move_out(
            uow, ctx, atena_numbers=v.picked, moved_date=v.get("moved_date")
        )
    if kind.slug == "death":
        return lambda uow, ctx: service.record_death(
            uow,
            ctx,
            atena_number=v.picked[0],
            death_date=v.get("death_date"),
            notified_date=notified,
        )
    if kind.slug == "head-change":
        z = _zokugara(v)
        return lambda uow, ctx: service.change_head(
            uow,
            ctx,
            household_number=hh,
            zokugara=z,
            change_date=v.get("change_date"),
            notified_date=notified,
        )
    if kind.slug == "household-split":
        z = _zokugara(v, v.picked)
        return lambda uow, ctx: service.split_household(
            uow,
            ctx,
            household_number=hh,
            zokugara=z,
            change_date=v.get("change_date"),
            notified_date=notified,
        )
    z = _zokugara(v, v.picked)
    return lambda uow, ctx: service.change_household(
        uow,
        ctx,
        household_number=hh,
        target_household_number=v.get("target_household"),
        zokugara=z,
        change_date=v.get("change_date"),
        notified_date=notified,
    )


def _version(v: Values) -> int | None:
    text = v.get("version")
    return int(text) if text.isdigit() else None


def corrections(v: Values, snap: Snapshot) -> dict[str, Any]:
    """The 修正 items whose value on the screen differs from the register's: only what staff
    changed is corrected (the screen shows every item pre-filled with its current value)."""
    current = _current_values(snap)
    changes: dict[str, Any] = {
        name: v.get(f"c_{name}")
        for name in CORRECT_FIELDS
        if v.get(f"c_{name}") != current.get(f"c_{name}", "")
    }
    address = snap.address.model_copy(update={k: v.get(f"addr_{k}") for k in ADDRESS_FIELDS})
    if address != snap.address:
        changes["address"] = address
    return changes


def _current_values(snap: Snapshot) -> dict[str, str]:
    """The form values of the register's current entry (生年月日 as it is displayed)."""
    out = {f"c_{name}": str(getattr(snap, name) or "") for name in CORRECT_FIELDS}
    out["c_birth_date"] = RegisterDate.from_storage(snap.birth_date).display()
    for k in ADDRESS_FIELDS:
        out[f"addr_{k}"] = getattr(snap.address, k)
    return out


def _person_use_case(kind: Kind, v: Values) -> UseCase:
    """修正 and 異動の取消し of the screen's person, guarded by the version it was opened at."""
    atena, version, note = v.get("person"), _version(v), v.get("note")
    if not atena:
        raise RegisterError("person.none", "宛名番号を入力してください。", "宛名番号")
    if kind.slug == "cancel":
        if not note:
            raise RegisterError("cancel.reason", "取消しの理由を入力してください。", "備考")
        return lambda uow, ctx: service.cancel_last(
            uow, ctx, atena_number=atena, note=note, expected_version=version
        )
    reason = Reason(v.get("reason") or kind.reasons[0])

    def correct(uow: UnitOfWork, ctx: service.Context) -> service.ChangeResult:
        snap, _ = service.latest(uow, atena)
        return service.correct(
            uow,
            ctx,
            atena_number=atena,
            changes=corrections(v, snap),
            reason=reason,
            note=note,
            expected_version=version,
        )

    return correct


def _field_for(item: str | None, kind: Kind) -> str | None:  # noqa: PLR0911, PLR0912 - a lookup
    """The form field a domain item name points at (exact label match), if any."""
    if not item:
        return None
    allowed = {d for d, _ in kind.dates} | _part_fields(kind)
    for name, label in PLAIN_FIELDS.items():
        if label == item and name in allowed:
            return name
    if "correct" in kind.parts:
        for name, label in CORRECT_FIELDS.items():
            if label == item:
                return f"c_{name}"
        if item in ("住所", "町字", "番地"):
            return "addr_town" if item != "番地" else "addr_banchi"
    for name, label in kind.dates:
        if label.startswith(item):
            return name
    if item in ("住所", "町字", "番地") and "address" in kind.parts:
        return "addr_town" if item != "番地" else "addr_banchi"
    if item.startswith(("転入前住所",)) and "prior" in kind.parts:
        return "prior_country_code" if "国名" in item else "prior_prefecture"
    if item.startswith("転出先住所") and "dest" in kind.parts:
        return "dest_country_code" if "国名" in item else "dest_prefecture"
    if "members" in kind.parts:
        for name, label in MEMBER_FIELDS.items():
            if label == item:
                return f"m0_{name}"
    return None


def _part_fields(kind: Kind) -> set[str]:
    out = set()
    if "household" in kind.parts:
        out.add("household")
    if "target" in kind.parts:
        out.add("target_household")
    if "join" in kind.parts:
        out.add("join_household")
    if "pick" in kind.parts:
        out.add("atena")
    if kind.on_person:
        out.add("person")
    if "note" in kind.parts:
        out.add("note")
    if kind.reasons:
        out.add("reason")
    return out


def _check(kind: Kind, v: Values, ctx: service.Context) -> tuple[dict[str, str], str]:
    """Per-person problems (domain rules) and pydantic shape problems, by field."""
    errors: dict[str, str] = {}
    if "members" in kind.parts:
        for i in range(v.members if kind.multi else 1):
            try:
                validate_person(_person(v, i), today=ctx.today)
            except RegisterError as exc:
                name = next((n for n, lab in MEMBER_FIELDS.items() if lab == exc.item), None)
                errors[f"m{i}_{name}" if name else f"m{i}_family_name"] = exc.message
            except ValidationError as exc:
                first = exc.errors()[0]
                # the input model's own errors (kikan.platform.types) say what is wrong in
                # Japanese without echoing the value; pydantic's own are in English
                own = str(first["type"]).startswith("kikan_")
                errors[f"m{i}_{first['loc'][0]}"] = (
                    first["msg"] if own else "入力内容が正しくありません。"
                )
    return errors, ""


# ---------------------------------------------------------------- My Number card facts


CARD_SEX = {"男": "1", "女": "2"}
PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}県)")
CITY = re.compile(r"^(.+?郡.+?[町村]|.+?市.+?区|.+?[市区町村])")


def card_facts(text: str, fields: dict[str, str]) -> dict[str, str]:
    """The 券面事項 (氏名, 住所, 生年月日, 性別) as JSON ({"name", "address", "birth_date",
    "sex"} or the Japanese keys) or as separate fields. Returns the values to pre-fill; raises
    RegisterError with a Japanese message when the JSON cannot be read."""
    data: dict[str, Any] = {}
    if text.strip():
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RegisterError(
                "card.json", "券面事項の JSON を読み取れません。", "券面事項"
            ) from exc
        if not isinstance(loaded, dict):
            raise RegisterError(
                "card.json", "券面事項は JSON のオブジェクトで貼り付けてください。", "券面事項"
            )
        data = loaded
    aliases = {
        "name": ("name", "氏名"),
        "address": ("address", "住所"),
        "birth_date": ("birth_date", "birth", "生年月日"),
        "sex": ("sex", "性別"),
    }
    facts = {}
    for key, names in aliases.items():
        value = next((str(data[n]) for n in names if n in data), "") or fields.get(key, "")
        facts[key] = value.strip()
    return facts


def _split_address(text: str) -> dict[str, str]:
    rest = text.strip().replace(" ", "　")
    out = {"prefecture": "", "city": "", "town": "", "banchi": ""}
    m = PREFECTURE.match(rest)
    if m:
        out["prefecture"], rest = m.group(1), rest[m.end() :]
    m = CITY.match(rest)
    if m:
        out["city"], rest = m.group(1), rest[m.end() :]
    m = re.search(r"[0-9０-９].*$", rest)
    if m:
        out["town"], out["banchi"] = rest[: m.start()], m.group(0)
    else:
        out["town"] = rest
    return out


def _apply_card(kind: Kind, v: Values, facts: dict[str, str], member: int) -> None:
    """Pre-fill from the card: the person's items, and for a 転入 the card's address as the
    転入前住所 (the card still shows the former address until the 転入 is recorded)."""
    p = f"m{member}_"
    name = facts.get("name", "").replace(" ", "　")
    if name:
        family, _, given = name.partition("　")
        v.one[p + "family_name"], v.one[p + "given_name"] = family, given.strip("　")
    if facts.get("birth_date"):
        v.one[p + "birth_date"] = facts["birth_date"]
    if facts.get("sex"):
        v.one[p + "sex"] = CARD_SEX.get(facts["sex"], facts["sex"])
    if facts.get("address") and "prior" in kind.parts:
        for k, value in _split_address(facts["address"]).items():
            v.one[f"prior_{k}"] = value


# ---------------------------------------------------------------- follow-on procedures


@cache
def followups() -> dict[str, list[dict[str, str]]]:
    """The follow-on procedures per 異動事由 (data, not code: followups.toml)."""
    with FOLLOWUPS.open("rb") as f:
        data = tomllib.load(f)
    return {reason: list(entry["procedures"]) for reason, entry in data["reason"].items()}


# ---------------------------------------------------------------- rendering


def _household(
    db: shell.Database, user: shell.PageUser, ctx: service.Context, atena: str
) -> tuple[Outcome, list[Snapshot], set[str]]:
    """The household of `atena` for a screen pre-filled from the register (audited read)."""

    def fn(uow: UnitOfWork, ctx: service.Context) -> tuple[list[Snapshot], set[str]]:
        found = service.detail(uow, ctx, atena)
        members = service.household_members(uow, found.snapshot.household_number)
        ids = [m.atena_number for m in members]
        audit.append(
            uow,
            ctx.actor,
            audit.AuditEvent(
                category="operation",
                action="inquiry",
                function="世帯照会",
                screen="異動入力",
                subjects=ids,
                detail={"household": found.snapshot.household_number},
            ),
        )
        return members, service.protected_among(uow, ids)

    outcome = run(db, user, ctx, function="住民照会", fn=fn)
    if not outcome.ok:
        return outcome, [], set()
    members, protected = outcome.value
    return outcome, members, protected


def _household_of(
    db: shell.Database, user: shell.PageUser, ctx: service.Context, number: str
) -> tuple[list[Snapshot], set[str]]:
    if not number:
        return [], set()
    with db.unit_of_work(user.scope) as uow:
        members = service.household_members(uow, number)
        ids = [m.atena_number for m in members]
        protected = service.protected_among(uow, ids)
        if members:
            audit.append(
                uow,
                ctx.actor,
                audit.AuditEvent(
                    category="operation",
                    action="inquiry",
                    function="世帯照会",
                    screen="異動入力",
                    subjects=ids,
                    detail={"household": number},
                ),
            )
        uow.commit()
    return members, protected


@dataclass(frozen=True)
class PersonView:
    """The one person a 修正 or 取消し screen works on, as read when the page was drawn."""

    snapshot: Snapshot
    version: int
    #: the 異動 a 取消し would cancel: the newest entry neither cancelled nor a cancellation
    last: Any = None
    #: under 支援措置: the screen flags it like the detail page does
    protected: bool = False


def _person_of(
    db: shell.Database, user: shell.PageUser, ctx: service.Context, atena: str
) -> Outcome:
    """The person for a person screen: an audited 住民照会 read that honours 照会抑止."""

    def fn(uow: UnitOfWork, ctx: service.Context) -> PersonView:
        found = service.detail(uow, ctx, atena)
        hist = service.read_history(uow, ctx, atena).value
        last = next(
            (e for e in reversed(hist) if not e.cancelled and e.cancels_history_no is None), None
        )
        return PersonView(found.snapshot, found.version, last, bool(found.measures))

    try:
        return run(db, user, ctx, function="住民照会", fn=fn)
    except KikanError as exc:  # unknown 宛名番号
        return Outcome(error=exc.detail, item="宛名番号", status=exc.status)


def _defaults(db: shell.Database, user: shell.PageUser, kind: Kind, v: Values, today: date) -> None:
    """Today for every date, and the municipality's own prefecture and city for new addresses."""
    for name, _ in kind.dates:
        if name != "notified_date" or kind.slug != "move-out-confirm":
            v.one.setdefault(name, today.isoformat())
    if "address" in kind.parts and user.tenant:
        with db.unit_of_work(Scope.host()) as uow:
            t = tenancy.get_tenant(uow, user.tenant)
        # a new address is in this municipality: its 市区町村コード is the 団体コード
        v.one.setdefault("addr_city_code", user.tenant)
        v.one.setdefault("addr_prefecture", t.prefecture)
        v.one.setdefault("addr_city", t.name)
    if kind.slug == "birth":
        v.one.setdefault("m0_zokugara", "子")
        v.one.setdefault("m0_birth_date", today.isoformat())
    if kind.multi:
        v.one.setdefault("m0_zokugara", "世帯主")
    if kind.reasons:
        v.one.setdefault("reason", kind.reasons[0])


def _labels(kind: Kind, v: Values) -> dict[str, str]:
    """Field name → what the error summary calls it (e.g. 異動者 2 の生年月日)."""
    out = dict(PLAIN_FIELDS)
    out.update(dict(kind.dates))
    for i in range(v.members):
        for name, label in MEMBER_FIELDS.items():
            out[f"m{i}_{name}"] = f"異動者 {i + 1} の{label}" if kind.multi else label
    for name, label in CORRECT_FIELDS.items():
        out[f"c_{name}"] = label
    for prefix, legend in (("addr", "新しい住所"), ("prior", "転入前住所"), ("dest", "転出先住所")):
        for name, label in {**ADDRESS_FIELDS, "country_code": "国名コード"}.items():
            out[f"{prefix}_{name}"] = f"{legend}（{label}）"
    return out


def _form(
    request: Any,
    user: shell.PageUser,
    kind: Kind,
    v: Values,
    *,
    members: list[Snapshot],
    protected: set[str],
    errors: dict[str, str] | None = None,
    summary: str = "",
    status: int = 200,
    card_error: str = "",
    person: PersonView | None = None,
) -> HTMLResponse:
    return shell.render(
        request,
        user,
        "entry.html",
        status=status,
        title=f"{kind.title}（入力）",
        kind=kind,
        v=v,
        members=members,
        protected=protected,
        errors=errors or {},
        summary=summary,
        member_fields=MEMBER_FIELDS,
        address_fields=ADDRESS_FIELDS,
        sex=SEX,
        card_error=card_error,
        max_members=MAX_MEMBERS,
        labels=_labels(kind, v),
        person=person,
        correct_fields=CORRECT_FIELDS,
        current=_current_values(person.snapshot) if person else {},
    )


@router.get("/residents/entry/{slug}", response_class=HTMLResponse)
def entry_form(
    request: Request,
    slug: Annotated[str, Chars(40)],
    *,
    user: UserDep,
    db: DbDep,
    atena: Annotated[str, Chars(15)] = "",
    household: Annotated[str, Chars(15)] = "",
) -> HTMLResponse:
    kind = _kind(slug)
    shell.require(db, user, *WRITE_ROLES, function=kind.function)
    ctx = context(request, user)
    v = Values()
    members: list[Snapshot] = []
    protected: set[str] = set()
    person: PersonView | None = None
    if atena and kind.on_person:
        outcome = _person_of(db, user, ctx, atena)
        if not outcome.ok:
            return shell.render(
                request,
                user,
                "refused.html",
                status=403 if outcome.suppressed else 404,
                title=kind.title,
                message=outcome.error,
            )
        person = outcome.value
        _load_person(v, person)
    elif atena:
        outcome, members, protected = _household(db, user, ctx, atena)
        if not outcome.ok:
            return shell.render(
                request,
                user,
                "refused.html",
                status=403 if outcome.suppressed else 404,
                title=kind.title,
                message=outcome.error,
            )
        if members:
            v.one["household"] = members[0].household_number
            if "pick" in kind.parts:
                v.picked = [atena]
            if kind.slug == "ex-officio-entry":
                v.one["join_household"] = members[0].household_number
            if "members" in kind.parts:
                v.one["m0_family_name"] = next(
                    (m.family_name for m in members if m.is_head), members[0].family_name
                )
                v.one["m0_family_name_kana"] = next(
                    (m.family_name_kana for m in members if m.is_head), ""
                )
    elif household:
        members, protected = _household_of(db, user, ctx, household)
        v.one["household"] = household
    _defaults(db, user, kind, v, ctx.today)
    v.one["timing"] = str(shell.start_timing(db, user, kind.title))
    for m in members:
        v.one.setdefault(f"z_{m.atena_number}", m.zokugara if kind.slug == "head-change" else "")
    return _form(request, user, kind, v, members=members, protected=protected, person=person)


def _load_person(v: Values, person: PersonView) -> None:
    """Pre-fill a person screen: the person, the version it was read at, current values."""
    v.one["person"] = person.snapshot.atena_number
    v.one["version"] = str(person.version)
    for k, value in _current_values(person.snapshot).items():
        v.one.setdefault(k, value)
    v.one.setdefault("addr_city_code", person.snapshot.address.city_code)


@router.post("/residents/entry/{slug}", response_class=HTMLResponse)
def entry_submit(  # noqa: PLR0911, PLR0912, PLR0915 - one answer per step of the flow
    request: Request, slug: Annotated[str, Chars(40)], user: UserDep, db: DbDep, form: FormDep
) -> HTMLResponse:
    kind = _kind(slug)
    shell.require(db, user, *WRITE_ROLES, function=kind.function)
    ctx = context(request, user)
    v = Values.from_form(form)
    action = str(form.get("action", "confirm"))
    members, protected = (
        _household_of(db, user, ctx, v.get("household"))
        if ("household" in kind.parts)
        else ([], set())
    )
    person: PersonView | None = None
    if kind.on_person and v.get("person"):
        found = _person_of(db, user, ctx, v.get("person"))
        if not found.ok:
            v.one.pop("version", None)
            return _form(
                request,
                user,
                kind,
                v,
                members=members,
                protected=protected,
                errors={"person": found.error},
                summary=found.error,
                status=403 if found.suppressed else 422,
            )
        person = found.value
        if action == "back" and not v.get("version"):
            _load_person(v, person)
    if action == "add" and kind.multi:
        v.members = min(v.members + 1, MAX_MEMBERS)
        v.one.setdefault(f"m{v.members - 1}_family_name", v.get("m0_family_name"))
        v.one.setdefault(f"m{v.members - 1}_family_name_kana", v.get("m0_family_name_kana"))
        return _form(request, user, kind, v, members=members, protected=protected, person=person)
    if action.startswith("remove-") and kind.multi and v.members > 1:
        drop = int(action.removeprefix("remove-")) if action[7:].isdigit() else -1
        _remove_member(v, drop)
        return _form(request, user, kind, v, members=members, protected=protected, person=person)
    if action.startswith("card"):
        member = int(action[5:]) if action[5:].isdigit() else 0
        fields = {
            k: str(form.get(f"card_{k}", "")) for k in ("name", "address", "birth_date", "sex")
        }
        try:
            facts = card_facts(str(form.get(f"card_json_{member}", "")), fields)
        except RegisterError as exc:
            return _form(
                request,
                user,
                kind,
                v,
                members=members,
                protected=protected,
                person=person,
                card_error=exc.message,
                status=422,
            )
        _apply_card(kind, v, facts, min(member, v.members - 1))
        return _form(request, user, kind, v, members=members, protected=protected, person=person)
    if action == "back":
        return _form(request, user, kind, v, members=members, protected=protected, person=person)

    errors, _ = _check(kind, v, ctx)
    if errors:
        return _form(
            request,
            user,
            kind,
            v,
            members=members,
            protected=protected,
            person=person,
            errors=errors,
            summary="入力内容に誤りがあります。",
            status=422,
        )
    try:
        use_case = _use_case(kind, v)
    except RegisterError as exc:
        field_name = _field_for(exc.item, kind)
        return _form(
            request,
            user,
            kind,
            v,
            members=members,
            protected=protected,
            person=person,
            errors={field_name: exc.message} if field_name else {},
            summary=exc.message,
            status=422,
        )
    except (ValidationError, ValueError):
        return _form(
            request,
            user,
            kind,
            v,
            members=members,
            protected=protected,
            person=person,
            summary="入力内容が正しくありません。各項目を確かめてください。",
            status=422,
        )

    commit = action == "commit"
    notice: dict[str, Any] = {}

    def after(uow: UnitOfWork, result: service.ChangeResult) -> None:
        if commit and shell.finish_timing(uow, v.get("timing")) is None:
            raise RegisterError(
                "entry.used",
                "この届出は既に登録済みか、画面の有効期限が切れています。"
                "画面を開き直してください。",
            )
        movers = [service.latest(uow, a)[0] for a in result.atena_numbers]
        notice["movers"] = movers

    outcome = run(db, user, ctx, function=kind.function, fn=use_case, commit=commit, after=after)
    if not outcome.ok:
        field_name = _field_for(outcome.item, kind)
        return _form(
            request,
            user,
            kind,
            v,
            members=members,
            protected=protected,
            person=person,
            errors={field_name: outcome.error} if field_name else {},
            summary=outcome.error,
            status=403 if outcome.suppressed else outcome.status,
        )
    result: service.ChangeResult = outcome.value
    if not commit:
        return shell.render(
            request,
            user,
            "confirm.html",
            title=f"{kind.title}（確認）",
            kind=kind,
            v=v,
            summary=_summary(kind, v, members, person),
            warnings=result.warnings,
            hidden=[(k, val) for k, val in v.one.items()] + [("members", str(v.members))],
            picked=v.picked,
        )
    with db.unit_of_work(Scope.host()) as uow:
        tenant = tenancy.get_tenant(uow, user.scope)
    return shell.render(
        request,
        user,
        "done.html",
        title=f"{kind.title}（完了）",
        kind=kind,
        result=result,
        movers=notice.get("movers", []),
        followups=followups().get(result.reason, []),
        tenant=tenant,
        today=ctx.today,
        notified=v.get("notified_date"),
        certificates_enabled=True,
    )


def _remove_member(v: Values, drop: int) -> None:
    if not 0 <= drop < v.members:
        return
    for i in range(drop, v.members - 1):
        for name in MEMBER_FIELDS:
            v.one[f"m{i}_{name}"] = v.one.get(f"m{i + 1}_{name}", "")
    for name in MEMBER_FIELDS:
        v.one.pop(f"m{v.members - 1}_{name}", None)
    v.members -= 1


def _summary(  # noqa: PLR0912 - one block per part of the screen
    kind: Kind, v: Values, members: list[Snapshot], person: PersonView | None = None
) -> list[tuple[str, str]]:
    """What the confirmation step shows, item by item."""
    out: list[tuple[str, str]] = [("異動の種類", kind.title)]
    if kind.reasons:
        out.append(("異動事由", v.get("reason")))
    if person is not None:
        s = person.snapshot
        out.append(("対象者", f"{s.full_name}（宛名番号 {s.atena_number}、版 {v.get('version')}）"))
        if kind.slug == "cancel" and person.last is not None:
            e = person.last
            out.append(
                (
                    "取り消す異動",
                    f"履歴番号 {e.history_no}　{e.reason}（{shell.jdate(e.valid_from)}）",
                )
            )
        if "correct" in kind.parts:
            current = _current_values(s)
            for name, change in corrections(v, s).items():
                if name == "address":
                    out.append(("住所", f"{s.address.text()} → {change.text()}"))
                    continue
                before, after = current[f"c_{name}"], change
                if name == "sex":
                    before, after = SEX.get(before, before), SEX.get(after, after)
                shown = f"{before or '（空欄）'} → {after or '（空欄）'}"
                out.append((CORRECT_FIELDS[name], shown))
    for name, label in kind.dates:
        if v.get(name):
            out.append((label, shell.jdate(v.get(name))))
    if "address" in kind.parts:
        out.append(("新しい住所", _address(v, "addr").text()))
    if "prior" in kind.parts:
        prior = _other(v, "prior")
        out.append(("転入前住所", prior.text() if prior else "（空欄）"))
    if "dest" in kind.parts:
        dest = _other(v, "dest")
        out.append(("転出先住所", dest.text() if dest else ""))
    if "members" in kind.parts:
        for i in range(v.members if kind.multi else 1):
            p = f"m{i}_"
            out.append(
                (
                    f"異動者 {i + 1}",
                    f"{v.get(p + 'family_name')}　{v.get(p + 'given_name')}"
                    f"（{v.get(p + 'family_name_kana')}　{v.get(p + 'given_name_kana')}）"
                    f"　{v.get(p + 'birth_date')}生　{SEX.get(v.get(p + 'sex'), '')}"
                    f"　続柄 {v.get(p + 'zokugara')}"
                    + ("　個人番号あり" if v.get(p + "my_number") else ""),
                )
            )
    names = {m.atena_number: m.full_name for m in members}
    if "pick" in kind.parts:
        out.append(("異動者", "、".join(names.get(a, a) for a in v.picked)))
    if "zokugara" in kind.parts:
        z = _zokugara(v, v.picked if "pick" in kind.parts else None)
        out.append(("新しい続柄", "、".join(f"{names.get(a, a)}：{val}" for a, val in z.items())))
    if "target" in kind.parts:
        label = "合併先の世帯番号" if kind.slug == "household-merge" else "異動先の世帯番号"
        out.append((label, v.get("target_household")))
    if v.get("join_household"):
        out.append(("入る世帯の世帯番号", v.get("join_household")))
    if "note" in kind.parts and v.get("note"):
        out.append(("取消しの理由" if kind.slug == "cancel" else "備考", v.get("note")))
    return out
