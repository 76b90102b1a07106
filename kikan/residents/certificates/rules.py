"""Who may get which certificate with which items: the pure rules, no database.

The kinds, their 帳票ID and 認証文 and the optional items with their defaults are data
(``data/certificates.toml``). The requester rules follow 住民基本台帳法:

- 本人・同一世帯員 (第12条, ``self``): any item, including 個人番号 and 住民票コード; the
  requester must be on the register in the certified household (identified by 宛名番号);
- 代理人 (``agent``): only with a 委任状 from the 本人/世帯員 they act for; no 個人番号;
- 公用 (第12条の2, ``official``): an authority (name) and its legal purpose; 公用 is printed;
- 第三者 (第12条の3, ``third_party``): name and 利用目的 are required; no 住民票コード, no
  個人番号 (法第12条の3第7項), no 在留カード等番号.

支援措置 (spec 3.4) is decided by the service with the register at hand; this module says which
requester kinds are refused outright for a protected person (第三者 and 代理人) and how a
requester is matched against the listed 加害者.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from kikan.residents.domain import RegisterError

RequesterKind = Literal["self", "agent", "official", "third_party"]
REQUESTER_LABELS: dict[str, str] = {
    "self": "本人・同一世帯員",
    "agent": "代理人",
    "official": "公用",
    "third_party": "第三者",
}
NAME_LABELS = {"agent": "代理人の氏名", "official": "請求機関の名称", "third_party": "請求者の氏名"}
#: Requester kinds refused for a person under 支援措置 (spec 3.4: エラーとする).
PROTECTED_REFUSED = frozenset({"third_party", "agent"})
#: Requester kinds whose obtaining a certificate triggers a 本人通知 (本人通知制度).
NOTIFIED_REQUESTERS = frozenset({"third_party", "agent"})


@dataclass(frozen=True)
class Kind:
    code: str
    form_id: str
    name: str
    text_all: str
    text_part: str
    removed: Literal["only", "never", "any"]
    items: bool
    official: bool


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    default: bool
    requesters: frozenset[str]
    foreign: bool


@dataclass(frozen=True)
class Catalogue:
    kinds: Mapping[str, Kind]
    items: Mapping[str, Item]

    def kind(self, code: str) -> Kind:
        found = self.kinds.get(code)
        if found is None:
            names = "、".join(f"{k.code}（{k.name}）" for k in self.kinds.values())
            raise RegisterError(
                "certificate.kind",
                f"指定された証明書の種類はありません。{names} から選んでください。",
                "証明書の種類",
            )
        return found


@cache
def catalogue() -> Catalogue:
    """The bundled certificate data, loaded once (immutable afterwards)."""
    raw = resources.files("kikan.residents.certificates").joinpath("data/certificates.toml")
    data: dict[str, Any] = tomllib.loads(raw.read_text(encoding="utf-8"))
    if data.get("format") != 1:
        raise ValueError("certificates.toml: unsupported format")
    kinds = {
        k["code"]: Kind(
            code=k["code"],
            form_id=k["form_id"],
            name=k["name"],
            text_all=k["text_all"],
            text_part=k["text_part"],
            removed=k["removed"],
            items=bool(k["items"]),
            official=bool(k["official"]),
        )
        for k in data["kinds"]
    }
    items = {
        i["code"]: Item(
            code=i["code"],
            label=i["label"],
            default=bool(i["default"]),
            requesters=frozenset(i["requesters"]),
            foreign=bool(i.get("foreign", False)),
        )
        for i in data["items"]
    }
    for item in items.values():
        unknown = item.requesters - set(REQUESTER_LABELS)
        if unknown:
            raise ValueError(f"certificates.toml: item {item.code}: unknown requesters {unknown}")
    return Catalogue(kinds, items)


@dataclass(frozen=True)
class Requester:
    """Who asks (請求者). `atena_number` identifies a 本人・世帯員 or the person an 代理人 acts
    for; `name` is the 代理人's, the authority's or the third party's name."""

    kind: RequesterKind
    name: str = ""
    atena_number: str = ""
    purpose: str = ""
    power_of_attorney: bool = False
    address: str = ""


@dataclass(frozen=True)
class Selection:
    """The items to print after applying defaults, requests and the requester's rights."""

    items: frozenset[str]
    labels: tuple[str, ...] = field(default=())


def _clean(text: str) -> str:
    """Trim only: what the requester wrote is recorded as written."""
    return text.strip()


def check_requester(r: Requester) -> Requester:
    """Refuse an incomplete request before anything is read (a clear Japanese 422)."""
    if r.kind not in REQUESTER_LABELS:
        raise RegisterError(
            "certificate.requester",
            "請求者の種別は self（本人・同一世帯員）、agent（代理人）、official（公用）、"
            "third_party（第三者）のいずれかです。",
            "請求者の種別",
        )
    name, purpose = _clean(r.name), _clean(r.purpose)
    if len(name) > 200 or len(purpose) > 400:
        raise RegisterError(
            "certificate.too_long", "請求者名または利用目的が長すぎます。", "請求者"
        )
    if r.kind == "self" and not r.atena_number.strip():
        raise RegisterError(
            "certificate.requester_atena",
            "本人・同一世帯員による請求では、本人確認した請求者の宛名番号を指定してください。",
            "請求者の宛名番号",
        )
    if r.kind in ("agent", "official", "third_party") and not name:
        label = {
            "agent": "代理人の氏名",
            "official": "請求機関の名称",
            "third_party": "請求者の氏名",
        }
        raise RegisterError(
            "certificate.requester_name", f"{label[r.kind]}を入力してください。", label[r.kind]
        )
    if r.kind == "agent":
        if not r.power_of_attorney:
            raise RegisterError(
                "certificate.power_of_attorney",
                "代理人による請求には委任状が必要です。委任状を確認してください。",
                "委任状",
            )
        if not r.atena_number.strip():
            raise RegisterError(
                "certificate.requester_atena",
                "代理人による請求では、委任した本人（世帯員）の宛名番号を指定してください。",
                "委任者の宛名番号",
            )
    if r.kind in ("third_party", "official") and not purpose:
        raise RegisterError(
            "certificate.purpose",
            "第三者・公用の請求には利用目的（請求事由）の記載が必要です（住民基本台帳法"
            "第12条の2・第12条の3）。",
            "利用目的",
        )
    return Requester(
        kind=r.kind,
        name=name,
        atena_number=r.atena_number.strip(),
        purpose=purpose,
        power_of_attorney=r.power_of_attorney,
        address=_clean(r.address),
    )


def select_items(
    kind: Kind, requester: Requester, include: Sequence[str] = (), omit: Sequence[str] = ()
) -> Selection:
    """Defaults of the catalogue, plus `include`, minus `omit`; an item the requester may not
    have is refused with the reason (never silently dropped: the clerk must tell them)."""
    cat = catalogue()
    for code in [*include, *omit]:
        if code not in cat.items:
            names = "、".join(f"{i.code}（{i.label}）" for i in cat.items.values())
            raise RegisterError(
                "certificate.item", f"指定された記載事項はありません。{names} から選んでください。",
                "記載事項",
            )  # fmt: skip
    both = set(include) & set(omit)
    if both:
        raise RegisterError(
            "certificate.item", f"{'、'.join(sorted(both))} が記載と省略の両方に指定されています。",
            "記載事項",
        )  # fmt: skip
    if not kind.items:
        if include or omit:
            raise RegisterError(
                "certificate.item", f"{kind.name}では記載事項を選べません。", "記載事項"
            )
        return Selection(frozenset())
    chosen = {c for c, i in cat.items.items() if i.default} | set(include)
    chosen -= set(omit)
    for code in sorted(set(include)):
        item = cat.items[code]
        if requester.kind not in item.requesters:
            raise RegisterError(
                "certificate.item_not_allowed",
                f"{REQUESTER_LABELS[requester.kind]}の請求では{item.label}を記載できません"
                "（住民基本台帳法第12条の2・第12条の3、番号法第19条）。",
                "記載事項",
            )
    # a default an ordinary requester may not have (none today) is dropped, never printed
    chosen = {c for c in chosen if requester.kind in cat.items[c].requesters}
    labels = tuple(cat.items[c].label for c in cat.items if c in chosen)
    return Selection(frozenset(chosen), labels)


def name_key(text: str) -> str:
    """Compare names ignoring width and spaces (加害者 lists are typed by hand)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def matches_perpetrator(requester: Requester, perpetrators: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the requester is one of the listed 加害者: by 宛名番号 where the list has one,
    else by name (氏名 / name / 氏名カナ). A false match refuses a certificate; a missed match
    could cost a life, so names match loosely (spaces and width ignored)."""
    names = {name_key(requester.name)} - {""}
    for p in perpetrators:
        atena = str(p.get("宛名番号") or p.get("atena_number") or "").strip()
        if atena and requester.atena_number and atena == requester.atena_number:
            return True
        for key in ("氏名", "name", "氏名カナ", "kana", "通称"):
            value = p.get(key)
            if isinstance(value, str) and name_key(value) and name_key(value) in names:
                return True
    return False
