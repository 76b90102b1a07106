"""Standard data layouts (データ要件) as versioned data files, e.g. 住民記録 with its data groups.

Why data files: ARCHITECTURE.md principle 3 ("the standard is data") and the データ要件 of the
standard, which asks every system to export all of its data in the standard layout. A revision
of the layout (an item renamed, a length changed, a group added) should be a change to one TOML
file under ``kikan/standard/data/layouts/`` plus tests; the conformance checker
(:mod:`kikan.conformance`) and, later, the export and linkage code read the same file.

This module only *describes* layouts and validates the description on load (so a broken layout
file fails loudly at start, not half-way through checking a vendor's million-row file). Checking
data against a layout is :mod:`kikan.conformance`'s job.

File layout (the full description is in docs/conformance-checker.md)::

    name = "residents"            # = file stem
    title = "住民記録"             # Japanese name; layout() accepts either
    business_code = "001"         # 業務コード
    version = "2026.1"
    source = "..."                # where the layout comes from
    confidence = "low"            # high | medium | low
    confidence_note = "..."
    [defaults]                    # inherited by groups and items that do not say otherwise
    source = "..."
    confidence = "medium"

    [[group]]                     # one data group = one file
    code = "person"               # English snake_case, consistent with docs/glossary.md
    name = "個人"

    [[group.item]]
    code = "atena_number"         # English snake_case (kikan/residents/domain.py field names)
    name = "宛名番号"              # the Japanese item name (CSV header)
    type = "X"                    # X 文字 | Ｎ 全角文字 | 9 数字 | DATE
    length = 15                   # maximum length in characters (not bytes)
    exact = false                 # true: the length must match exactly
    required = true
    required_when = { resident_kind = ["2"] }   # required only when another item has a value
    code_table = "sex"            # a table of kikan/standard/data/codes/ … or:
    values = { "1" = "住所" }      # an inline list of codes with labels
    unknown_allowed = false       # DATE only: the 不詳 forms of RegisterDate are accepted
    check_digit = "宛名番号"       # 個人番号 | 住民票コード | 宛名番号 | 世帯番号 | 団体コード
    validator = "zokugara"        # zokugara | zokugara_code
    sensitive = false             # true: messages never show the value (個人番号)
    source = "..."                # optional: overrides the group / [defaults] source
    confidence = "medium"

    [[rule]]                      # cross-row rules
    kind = "unique" | "reference" | "one_per_key"

Errors are :class:`LayoutError` with the project's error contract: ``code``
(``layout.unknown`` or ``layout.invalid``), ``message`` (Japanese; ``str(e)``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from kikan.errors import DomainError, Kind
from kikan.standard.codes import CodeError, code_table

__all__ = [
    "CHECK_DIGIT_KINDS",
    "ITEM_TYPES",
    "VALIDATORS",
    "Confidence",
    "Group",
    "Item",
    "ItemType",
    "Layout",
    "LayoutError",
    "Rule",
    "available_layouts",
    "layout",
    "parse_layout",
]

Confidence: TypeAlias = Literal["high", "medium", "low"]
ItemType: TypeAlias = Literal["X", "Ｎ", "9", "DATE"]
RuleKind: TypeAlias = Literal["unique", "reference", "one_per_key"]

#: The standard's type legend, as far as the checker can check it.
ITEM_TYPES: Mapping[str, str] = MappingProxyType(
    {"X": "文字", "Ｎ": "全角文字", "9": "数字", "DATE": "日付"}
)
# Half-width N is what people type; the standard writes the full-width letter.
_TYPE_ALIASES = {"N": "Ｎ"}
#: The identifier kinds whose check digit kikan.platform.ids can verify.
CHECK_DIGIT_KINDS = frozenset({"個人番号", "住民票コード", "宛名番号", "世帯番号", "団体コード"})
#: Value checks that need more than a code list (implemented in kikan.conformance).
VALIDATORS = frozenset({"zokugara", "zokugara_code"})

_DATA_PACKAGE = "kikan.standard"
_DATA_DIR = "data/layouts"
_CODE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_CONFIDENCE = frozenset({"high", "medium", "low"})
_HEADER_KEYS = frozenset(
    {
        "name",
        "title",
        "business_code",
        "version",
        "source",
        "confidence",
        "confidence_note",
        "defaults",
        "group",
        "rule",
    }
)
_GROUP_KEYS = frozenset({"code", "name", "description", "source", "confidence", "item"})
_ITEM_KEYS = frozenset(
    {
        "code",
        "item_id",
        "name",
        "type",
        "length",
        "exact",
        "required",
        "required_when",
        "code_table",
        "values",
        "unknown_allowed",
        "check_digit",
        "validator",
        "sensitive",
        "source",
        "confidence",
        "note",
    }
)
_RULE_KEYS = frozenset(
    {"kind", "group", "items", "target_group", "target_items", "label", "match", "where", "none"}
    | {"note"}
)


class LayoutError(DomainError, ValueError):
    """A layout that does not exist or a layout file that breaks the format. ``str(e)`` is the
    Japanese message, which names the file, the group and the item at fault."""

    kind = Kind.INVALID

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


@dataclass(frozen=True, slots=True)
class Item:
    """One item (column) of a data group."""

    code: str
    name: str
    type: ItemType
    source: str
    confidence: Confidence
    length: int | None = None
    exact: bool = False
    required: bool = False
    required_when: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    code_table: str | None = None
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    unknown_allowed: bool = False
    check_digit: str | None = None
    validator: str | None = None
    sensitive: bool = False
    note: str = ""
    #: the standard's データ項目ID (業務コード 3桁 + 項目番号 5桁) where the item definition gives
    #: one; empty where it was not obtainable (never invented)
    item_id: str = ""

    @property
    def type_label(self) -> str:
        """The legend's Japanese word for the type (文字, 全角文字, 数字, 日付)."""
        return ITEM_TYPES[self.type]


@dataclass(frozen=True, slots=True)
class Rule:
    """A cross-row rule.

    ``unique``: the ``items`` (together) identify one row of ``group``.
    ``reference``: every non-empty ``items`` value of ``group`` exists as ``target_items`` of
    ``target_group``.
    ``one_per_key``: among the rows of ``group`` that satisfy ``where``, at most one per
    ``items`` key satisfies ``match`` (世帯主 per 世帯); a key with none is reported with the
    severity ``none`` ("warning", "error" or "ignore").
    """

    kind: RuleKind
    group: str
    items: tuple[str, ...]
    target_group: str | None = None
    target_items: tuple[str, ...] = ()
    label: str = ""
    match: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    where: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    none: Literal["error", "warning", "ignore"] = "warning"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Group:
    """A data group: one CSV file, one row per record, one column per item."""

    code: str
    name: str
    description: str
    items: tuple[Item, ...]
    _by_key: Mapping[str, Item] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_key: dict[str, Item] = {}
        for item in self.items:
            by_key[item.code] = item
            by_key[item.name] = item
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def item(self, key: str) -> Item:
        """The item whose code name or Japanese name is ``key``."""
        found = self._by_key.get(key)
        if found is None:
            raise LayoutError(
                "layout.unknown", f"データ群「{self.name}」に項目「{key}」はありません。"
            )
        return found

    def find(self, key: str) -> Item | None:
        """Like :meth:`item` but None when there is no such item (header matching)."""
        return self._by_key.get(key)

    @property
    def header(self) -> list[str]:
        """The Japanese item names in layout order: the header row of a conforming file."""
        return [item.name for item in self.items]


@dataclass(frozen=True, slots=True)
class Layout:
    """A standard data layout: data groups, their items and the cross-row rules."""

    name: str
    title: str
    business_code: str
    version: str
    source: str
    confidence: Confidence
    confidence_note: str
    groups: tuple[Group, ...]
    rules: tuple[Rule, ...]
    _by_key: Mapping[str, Group] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_key: dict[str, Group] = {}
        for group in self.groups:
            by_key[group.code] = group
            by_key[group.name] = group
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))

    def group(self, key: str) -> Group:
        """The group whose code name or Japanese name is ``key``."""
        found = self._by_key.get(key)
        if found is None:
            raise LayoutError(
                "layout.unknown", f"レイアウト「{self.title}」にデータ群「{key}」はありません。"
            )
        return found

    def find_group(self, key: str) -> Group | None:
        return self._by_key.get(key)

    def rules_for(self, group: str) -> tuple[Rule, ...]:
        """Rules whose rows come from ``group`` (code name)."""
        return tuple(r for r in self.rules if r.group == group)

    @property
    def check_order(self) -> tuple[str, ...]:
        """Group codes ordered so that every reference target comes before the groups that refer
        to it: the checker reads 世帯 before 個人, so a member's household is known when the
        member's row is checked and the row can be reported with its own line number."""
        return _topological_order(self)


# ------------------------------------------------------------------------------- parsing


def _invalid(where: str, detail: str) -> LayoutError:
    return LayoutError("layout.invalid", f"レイアウト定義{where}が正しくありません：{detail}。")


def _text(data: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value:
        raise _invalid(where, f"{key} は空でない文字列にしてください")
    return value


def _bool(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise _invalid(where, f"{key} は true か false にしてください")
    return value


def _confidence(data: Mapping[str, Any], where: str, default: str | None) -> Confidence:
    value = data.get("confidence", default)
    if value not in _CONFIDENCE:
        raise _invalid(where, f"confidence は high/medium/low のいずれかにしてください（{value}）")
    return value  # type: ignore[no-any-return]  # checked against _CONFIDENCE


def _condition(raw: Any, key: str, where: str) -> Mapping[str, tuple[str, ...]]:
    """``{ item = ["v1", "v2"] }``: used by required_when, match and where."""
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, dict) or not raw:
        raise _invalid(where, f'{key} は {{ 項目 = ["値", …] }} の形にしてください')
    out: dict[str, tuple[str, ...]] = {}
    for item, values in raw.items():
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v for v in values)
        ):
            raise _invalid(where, f"{key} の {item} は空でない文字列のリストにしてください")
        out[item] = tuple(values)
    return MappingProxyType(out)


def _item_shape(raw: Mapping[str, Any], label: str) -> tuple[str, int | None, bool]:
    """type, length and exact: the legend's types, lengths in characters (none for DATE)."""
    raw_kind = raw.get("type")
    kind = _TYPE_ALIASES.get(raw_kind, raw_kind) if isinstance(raw_kind, str) else ""
    if kind not in ITEM_TYPES:
        raise _invalid(
            label, f"type は {' / '.join(ITEM_TYPES)} のいずれかにしてください（{raw_kind!r}）"
        )
    length = raw.get("length")
    if kind == "DATE":
        if length is not None:
            raise _invalid(label, "DATE 型には length を指定できません")
    elif isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise _invalid(label, "length は1以上の整数にしてください（文字数）")
    exact = _bool(raw, "exact", label)
    if exact and kind == "DATE":
        raise _invalid(label, "DATE 型には exact を指定できません")
    return kind, length, exact


def _item_codes(raw: Mapping[str, Any], label: str) -> tuple[str | None, Mapping[str, str]]:
    """code_table (must load) or inline values, never both."""
    table = raw.get("code_table")
    if table is not None:
        if not isinstance(table, str):
            raise _invalid(label, "code_table は文字列にしてください")
        try:
            code_table(table)
        except CodeError as exc:
            raise _invalid(label, f"code_table「{table}」を読めません（{exc.message}）") from None
    values_raw = raw.get("values")
    values: Mapping[str, str] = MappingProxyType({})
    if values_raw is not None:
        if (
            not isinstance(values_raw, dict)
            or not values_raw
            or not all(isinstance(v, str) and v for v in values_raw.values())
        ):
            raise _invalid(label, 'values は { "コード" = "名称" } の表にしてください')
        values = MappingProxyType(dict(values_raw))
    if table is not None and values:
        raise _invalid(label, "code_table と values は同時に指定できません")
    return table, values


def _item(raw: Any, where: str, defaults: Mapping[str, Any]) -> Item:
    if not isinstance(raw, dict):
        raise _invalid(where, "item は表にしてください")
    code = raw.get("code")
    label = f"{where}・項目「{raw.get('name', code)}」"
    unknown = set(raw) - _ITEM_KEYS
    if unknown:
        raise _invalid(label, f"未知のキー {sorted(unknown)}")
    if not isinstance(code, str) or not _CODE_NAME.fullmatch(code):
        raise _invalid(label, f"code は英小文字の snake_case にしてください（{code!r}）")
    kind, length, exact = _item_shape(raw, label)
    table, values = _item_codes(raw, label)
    unknown_allowed = _bool(raw, "unknown_allowed", label)
    if unknown_allowed and kind != "DATE":
        raise _invalid(label, "unknown_allowed（不詳可）は DATE 型にだけ指定できます")
    check_digit = raw.get("check_digit")
    if check_digit is not None:
        if check_digit not in CHECK_DIGIT_KINDS:
            kinds = "・".join(sorted(CHECK_DIGIT_KINDS))
            raise _invalid(label, f"check_digit は {kinds} のいずれかにしてください")
        if kind not in ("X", "9"):
            raise _invalid(label, "check_digit は X 型か 9 型の項目にだけ指定できます")
    validator = raw.get("validator")
    if validator is not None and validator not in VALIDATORS:
        names = "・".join(sorted(VALIDATORS))
        raise _invalid(label, f"validator は {names} のいずれかにしてください")
    return Item(
        code=code,
        name=_text(raw, "name", label),
        type=kind,  # type: ignore[arg-type]  # checked against ITEM_TYPES
        source=_text(raw, "source", label, default=defaults.get("source")),
        confidence=_confidence(raw, label, defaults.get("confidence")),
        length=length,
        exact=exact,
        required=_bool(raw, "required", label),
        required_when=_condition(raw.get("required_when"), "required_when", label),
        code_table=table,
        values=values,
        unknown_allowed=unknown_allowed,
        check_digit=check_digit,
        validator=validator,
        sensitive=_bool(raw, "sensitive", label),
        note=str(raw.get("note", "")),
        item_id=_item_id(raw, label),
    )


_ITEM_ID = re.compile(r"^[0-9]{8}$")


def _item_id(raw: Mapping[str, Any], label: str) -> str:
    value = raw.get("item_id", "")
    if not isinstance(value, str) or (value and not _ITEM_ID.fullmatch(value)):
        raise _invalid(label, "item_id は8桁の数字（業務コード3桁＋項目番号5桁）にしてください")
    return value


def _group(raw: Any, where: str, defaults: Mapping[str, Any]) -> Group:
    if not isinstance(raw, dict):
        raise _invalid(where, "group は表にしてください")
    code = raw.get("code")
    label = f"{where}・データ群「{raw.get('name', code)}」"
    unknown = set(raw) - _GROUP_KEYS
    if unknown:
        raise _invalid(label, f"未知のキー {sorted(unknown)}")
    if not isinstance(code, str) or not _CODE_NAME.fullmatch(code):
        raise _invalid(label, f"code は英小文字の snake_case にしてください（{code!r}）")
    group_defaults = {
        "source": raw.get("source", defaults.get("source")),
        "confidence": raw.get("confidence", defaults.get("confidence")),
    }
    raw_items = raw.get("item")
    if not isinstance(raw_items, list) or not raw_items:
        raise _invalid(label, "[[group.item]] がありません")
    items = tuple(_item(r, label, group_defaults) for r in raw_items)
    seen: set[str] = set()
    for item in items:
        for key in (item.code, item.name):
            if key in seen:
                raise _invalid(label, f"項目「{key}」が重複しています（code と name は一意）")
            seen.add(key)
    for item in items:
        for other in item.required_when:
            if other not in seen or other == item.code:
                raise _invalid(
                    label, f"項目「{item.name}」の required_when の {other} がありません"
                )
    return Group(
        code=code,
        name=_text(raw, "name", label),
        description=str(raw.get("description", "")),
        items=items,
    )


def _items_of(group: Group | None, keys: Any, label: str, key_name: str) -> tuple[str, ...]:
    if group is None:
        raise _invalid(label, f"{key_name} のデータ群がありません")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise _invalid(label, f"{key_name} は項目の code のリストにしてください")
    for key in keys:
        if group.find(key) is None or group.item(key).code != key:
            raise _invalid(
                label, f"{key_name} の「{key}」はデータ群「{group.name}」の項目 code ではありません"
            )
    return tuple(keys)


def _rule(raw: Any, where: str, groups: Mapping[str, Group]) -> Rule:
    if not isinstance(raw, dict):
        raise _invalid(where, "rule は表にしてください")
    label = f"{where}・rule（{raw.get('kind')} / {raw.get('group')}）"
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise _invalid(label, f"未知のキー {sorted(unknown)}")
    kind = raw.get("kind")
    if kind not in ("unique", "reference", "one_per_key"):
        raise _invalid(label, "kind は unique / reference / one_per_key のいずれかにしてください")
    group = groups.get(str(raw.get("group")))
    items = _items_of(group, raw.get("items"), label, "items")
    assert group is not None
    target_group: str | None = None
    target_items: tuple[str, ...] = ()
    if kind == "reference":
        target = groups.get(str(raw.get("target_group")))
        target_items = _items_of(target, raw.get("target_items"), label, "target_items")
        assert target is not None
        if len(target_items) != len(items):
            raise _invalid(label, "items と target_items の数が違います")
        target_group = target.code
    elif "target_group" in raw or "target_items" in raw:
        raise _invalid(label, "target_group / target_items は reference にだけ指定できます")
    match = _condition(raw.get("match"), "match", label)
    where_ = _condition(raw.get("where"), "where", label)
    for key in (*match, *where_):
        _items_of(group, [key], label, "match / where")
    if kind == "one_per_key" and not match:
        raise _invalid(label, "one_per_key には match が必要です")
    none = raw.get("none", "warning")
    if none not in ("error", "warning", "ignore"):
        raise _invalid(label, "none は error / warning / ignore のいずれかにしてください")
    return Rule(
        kind=kind,
        group=group.code,
        items=items,
        target_group=target_group,
        target_items=target_items,
        label=str(raw.get("label", "")),
        match=match,
        where=where_,
        none=none,
        note=str(raw.get("note", "")),
    )


def _topological_order(lay: Layout) -> tuple[str, ...]:
    """Group codes with reference targets first; layout order otherwise. Raises on cycles."""
    needs: dict[str, set[str]] = {g.code: set() for g in lay.groups}
    for rule in lay.rules:
        if rule.kind == "reference" and rule.target_group != rule.group:
            assert rule.target_group is not None
            needs[rule.group].add(rule.target_group)
    order: list[str] = []
    while len(order) < len(needs):
        ready = [g.code for g in lay.groups if g.code not in order and needs[g.code] <= set(order)]
        if not ready:
            raise _invalid(f"「{lay.name}」", "reference が循環しています")
        order.append(ready[0])
    return tuple(order)


def parse_layout(data: Mapping[str, Any], *, expected_name: str | None = None) -> Layout:
    """Build and validate a layout from parsed TOML (format in the module docstring).

    Public so that tests and tools can check a candidate layout file before it replaces a
    bundled one; every problem is a :class:`LayoutError` naming where it is.
    """
    where = f"「{expected_name or data.get('name', '?')}」"
    unknown = set(data) - _HEADER_KEYS
    if unknown:
        raise _invalid(where, f"未知の見出し項目 {sorted(unknown)}")
    name = _text(data, "name", where)
    if expected_name is not None and name != expected_name:
        raise _invalid(where, f"name「{name}」がファイル名と一致しません")
    business_code = _text(data, "business_code", where)
    if not re.fullmatch(r"[0-9]{3}", business_code):
        raise _invalid(where, "business_code は3桁の数字にしてください")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict) or set(defaults) - {"source", "confidence"}:
        raise _invalid(where, "[defaults] には source と confidence だけを書けます")
    raw_groups = data.get("group")
    if not isinstance(raw_groups, list) or not raw_groups:
        raise _invalid(where, "[[group]] がありません")
    groups = tuple(_group(r, where, defaults) for r in raw_groups)
    by_code: dict[str, Group] = {}
    for group in groups:
        for key in (group.code, group.name):
            if key in by_code:
                raise _invalid(where, f"データ群「{key}」が重複しています")
            by_code[key] = group
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise _invalid(where, "rule は [[rule]] の並びにしてください")
    rules = tuple(_rule(r, where, by_code) for r in raw_rules)
    result = Layout(
        name=name,
        title=_text(data, "title", where),
        business_code=business_code,
        version=_text(data, "version", where),
        source=_text(data, "source", where),
        confidence=_confidence(data, where, None),
        confidence_note=str(data.get("confidence_note", "")),
        groups=groups,
        rules=rules,
    )
    _topological_order(result)  # refuse cycles at load time
    return result


def available_layouts() -> list[str]:
    """Names (file stems) of the bundled layouts, sorted."""
    folder = resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR)
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".toml")
    )


@cache
def _load(name: str) -> Layout:
    text = resources.files(_DATA_PACKAGE).joinpath(f"{_DATA_DIR}/{name}.toml").read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _invalid(f"「{name}」", f"TOML の構文エラー（{exc}）") from exc
    return parse_layout(data, expected_name=name)


@cache
def _titles() -> Mapping[str, str]:
    return MappingProxyType({_load(n).title: n for n in available_layouts()})


def layout(name: str) -> Layout:
    """The bundled layout ``name``: its file stem (``"residents"``) or its Japanese title
    (``"住民記録"``). Parsed and validated once per process."""
    if _CODE_NAME.fullmatch(name) and name in available_layouts():
        return _load(name)
    stem = _titles().get(name)
    if stem is None:
        known = "、".join(f"{_load(n).title}（{n}）" for n in available_layouts())
        raise LayoutError(
            "layout.unknown", f"レイアウト「{name}」はありません（あるもの：{known}）。"
        )
    return _load(stem)
