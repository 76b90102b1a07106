"""`kikan demo`'s 住登外者: a few non-resident landowners and taxpayers, two of whom look like one
person written two ways (異体字 and a new address), so the 名寄せ worklist has a pair to decide.

Registered through the use cases (`fuban_unattended`, as a batch would), never by writing rows.
"""

from __future__ import annotations

from kikan.atena.service import register
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.crypto import KeyRing
from kikan.platform.uow import Database

DEMO_ACTOR = audit.Actor(kind="system", id="demo")

PEOPLE: tuple[dict[str, str], ...] = (
    {
        "family_name": "髙橋", "given_name": "一郎", "family_name_kana": "タカハシ",
        "given_name_kana": "イチロウ", "sex": "1", "birth_date": "昭和45年4月1日",
        "postal_code": "5300001", "prefecture": "大阪府", "city": "大阪市北区",
        "town": "梅田一丁目", "banchi": "１番地", "gyomu_id": "012",
    },
    {
        "family_name": "高橋", "given_name": "一郎", "family_name_kana": "タカハシ",
        "given_name_kana": "イチロウ", "sex": "1", "birth_date": "昭和45年4月1日",
        "postal_code": "6008001", "prefecture": "京都府", "city": "京都市下京区",
        "town": "四条通", "banchi": "２番地", "gyomu_id": "010",
    },
    {
        "family_name": "佐藤", "given_name": "花子", "family_name_kana": "サトウ",
        "given_name_kana": "ハナコ", "sex": "2", "birth_date": "昭和58年11月 日不詳",
        "foreign_address": "アメリカ合衆国カリフォルニア州", "country_code": "840",
        "gyomu_id": "012",
    },
    {
        "roman_name": "ＳＭＩＴＨ　ＪＯＨＮ", "name_kana": "スミス　ジョン", "sex": "1",
        "birth_date": "1975-07-04", "prefecture": "東京都", "city": "港区",
        "town": "六本木一丁目", "banchi": "３番", "gyomu_id": "013",
    },
)  # fmt: skip


def seed_demo_jutogai(db: Database, tenant: str, keyring: KeyRing | None) -> int:
    """Register the demo 住登外者 (the module descriptor names this seeder); returns how many."""
    ctx = Context(actor=DEMO_ACTOR, keyring=keyring, tenant=tenant)
    with db.unit_of_work(tenant) as uow:
        for person in PEOPLE:
            register.fuban_unattended(
                uow, ctx, register.Fuban("0", person, requester=f"demo:{DEMO_ACTOR.id}")
            )
        uow.commit()
    return len(PEOPLE)
