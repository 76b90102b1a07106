"""The 異動 screens as data: which parts each screen shows, its dates and reasons, and the form's
field labels (what the domain calls each item in its messages)."""

from __future__ import annotations

from dataclasses import dataclass

from kikan.residents import service
from kikan.web import shell

#: how many new persons one 転入 or 職権記載 screen takes
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
    #: the key of the screen's function in the 機能ID catalogue (roles, audit label)
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
            "residents.move_in",
            frozenset({"members", "multi", "address", "prior", "join"}),
            (("move_date", "異動日（転入した日）"), ("notified_date", "届出日")),
            reasons=("国内転入", "国外転入等"),
        ),
        Kind(
            "birth",
            "出生",
            "residents.birth",
            frozenset({"members", "household"}),
            (("notified_date", "届出日"),),
        ),
        Kind(
            "move-within",
            "転居",
            "residents.move_within",
            frozenset({"address", "household"}),
            (("move_date", "異動日（転居した日）"), ("notified_date", "届出日")),
        ),
        Kind(
            "move-out",
            "転出",
            "residents.move_out",
            frozenset({"pick", "dest", "household"}),
            (("planned_date", "転出予定年月日"), ("notified_date", "届出日")),
        ),
        Kind(
            "move-out-confirm",
            "転出確定",
            "residents.move_out_confirm",
            frozenset({"pick", "household"}),
            (("moved_date", "異動日（転出した日）"),),
        ),
        Kind(
            "death",
            "死亡",
            "residents.death",
            frozenset({"pick", "household"}),
            (("death_date", "死亡年月日"), ("notified_date", "届出日")),
            single_pick=True,
        ),
        Kind(
            "head-change",
            "世帯主変更",
            "residents.head_change",
            frozenset({"zokugara", "household"}),
            (("change_date", "異動日"), ("notified_date", "届出日")),
        ),
        Kind(
            "household-split",
            "世帯分離",
            "residents.household_split",
            frozenset({"pick", "zokugara", "household"}),
            (("change_date", "異動日"), ("notified_date", "届出日")),
        ),
        Kind(
            "household-change",
            "世帯変更",
            "residents.household_change",
            frozenset({"pick", "zokugara", "household", "target"}),
            (("change_date", "異動日"), ("notified_date", "届出日")),
        ),
        Kind(
            "household-merge",
            "世帯合併",
            "residents.household_merge",
            frozenset({"zokugara", "household", "target"}),
            (("change_date", "異動日"), ("notified_date", "届出日")),
        ),
        Kind(
            "ex-officio-entry",
            "職権記載",
            "residents.ex_officio_entry",
            frozenset({"members", "multi", "address", "prior", "join", "note"}),
            (("entry_date", "異動日（職権記載の日）"), ("notified_date", "届出日")),
            reasons=tuple(r.value for r in service.EX_OFFICIO_ENTRY_REASONS),
            receipt=False,
        ),
        Kind(
            "ex-officio-removal",
            "職権消除",
            "residents.ex_officio_removal",
            frozenset({"pick", "household", "note"}),
            (("removal_date", "異動日（消除の日）"), ("notified_date", "届出日")),
            reasons=tuple(r.value for r in service.EX_OFFICIO_REMOVAL_REASONS),
            receipt=False,
        ),
        Kind(
            "correct",
            "修正",
            "residents.correct",
            frozenset({"person", "correct", "note"}),
            (),
            reasons=tuple(r.value for r in service.CORRECTION_REASONS),
            receipt=False,
        ),
        Kind(
            "cancel",
            "異動の取消し",
            "residents.cancel",
            frozenset({"person", "note"}),
            (),
            receipt=False,
        ),
    )
}


def kind_of(slug: str) -> Kind:
    found = KINDS.get(slug)
    if found is None:
        raise shell.PageForbidden("この異動の画面はありません。", status=404)
    return found
