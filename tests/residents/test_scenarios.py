"""User stories of the resident register, told through the HTTP API like a counter would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from kikan.platform.ids import is_valid_atena_number, my_number_check_digit
from kikan.platform.store import AuditRecordRow, OutboxEventRow
from kikan.platform.uow import Database
from kikan.residents.store import HistoryRow
from tests.residents.conftest import (
    ADDRESS,
    ADDRESS2,
    PRIOR,
    TODAY,
    Clerk,
    days_ago,
    family_move_in,
    person,
)


def _count_history(db: Database, tenant: str) -> int:
    with db.unit_of_work(tenant) as uow:
        return uow.session.scalar(select(func.count()).select_from(HistoryRow)) or 0


def test_family_moves_in_and_is_found_by_half_width_kana(clerk: Clerk, db: Database) -> None:
    result = family_move_in(clerk)
    assert result["reason"] == "国内転入"
    atenas = result["atena_numbers"]
    assert len(atenas) == 3 and all(is_valid_atena_number(a) for a in atenas)
    household = result["household_numbers"][0]
    head = clerk.resident(atenas[0])
    assert head["snapshot"]["zokugara"] == "世帯主"
    assert head["snapshot"]["household_number"] == household
    assert head["display"]["birth_date"] == "平成15年1月7日"
    assert head["display"]["address"] == "架空県日和市松町一丁目1番地"
    found = clerk.search(kana="ｱｵｷ ﾊﾅｺ")
    assert found["total"] == 1 and found["results"][0]["full_name"] == "青木　花子"
    assert clerk.search(name="あおき")["total"] == 3  # the name box also matches フリガナ
    assert clerk.search(name="青木花")["total"] == 1
    assert clerk.search(kana="あおき")["total"] == 3
    only = clerk.search(kana="アオキ", fields=["atena_number", "support_measure"])
    assert set(only["results"][0]) == {"atena_number", "support_measure"}
    history = clerk.history(atenas[1])
    assert [(h["history_no"], h["reason"]) for h in history] == [(1, "国内転入")]
    assert history[0]["valid_from"] == days_ago(3)
    assert history[0]["notified_date"] == days_ago(1)
    assert history[0]["operator"] == "shinsa"
    with db.unit_of_work(clerk.tenant) as uow:
        events = uow.session.scalars(select(OutboxEventRow)).all()
        assert [e.payload["atena_numbers"] for e in events] == [atenas]
        actions = uow.session.scalars(select(AuditRecordRow.function)).all()
        assert "住民記録：国内転入" in actions and "住民検索" in actions and "住民照会" in actions


def test_birth_entered_ten_days_late(clerk: Clerk) -> None:
    household = family_move_in(clerk, move_date=days_ago(30))["household_numbers"][0]
    born = days_ago(10)
    r = clerk.ok(
        "/residents/birth",
        {
            "household_number": household,
            "person": person("青木", "二郎", "アオキ", "ジロウ", "1", born, "子"),
            "notified_date": TODAY.isoformat(),
        },
        status=201,
    )
    child = r["atena_numbers"][0]
    entry = clerk.history(child)[0]
    assert entry["reason"] == "出生"
    assert entry["valid_from"] == born  # 異動日 = date of birth …
    assert datetime.fromisoformat(entry["recorded_at"]).astimezone(UTC).date() >= TODAY - timedelta(
        days=1
    )  # … 処理日 = today
    before = clerk.get(f"/residents/{child}/as-of", params={"date": days_ago(11)})
    assert before.status_code == 200 and before.json() is None
    on = clerk.get(f"/residents/{child}/as-of", params={"date": born}).json()
    assert on["snapshot"]["given_name"] == "二郎"


def test_head_dies_leaving_two_members_then_head_change(clerk: Clerk) -> None:
    r = family_move_in(clerk, move_date=days_ago(60))
    head, wife, child = r["atena_numbers"]
    household = r["household_numbers"][0]
    died = clerk.ok("/residents/death", {"atena_number": head, "death_date": days_ago(2)})
    assert any("世帯主不在" in w for w in died["warnings"])
    assert clerk.resident(head)["snapshot"]["status"] == "dead"
    # 世帯主不在: other members can still be processed, and a head change restores a head
    changed = clerk.ok(
        "/households/head-change",
        {
            "household_number": household,
            "zokugara": {wife: "世帯主", child: "子"},
            "change_date": days_ago(1),
        },
    )
    assert changed["warnings"] == []
    assert clerk.resident(wife)["snapshot"]["zokugara"] == "世帯主"
    assert [h["reason"] for h in clerk.history(wife)] == ["国内転入", "世帯主変更"]


def test_head_leaves_one_member_who_becomes_head_ex_officio(clerk: Clerk) -> None:
    r = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {"person": person("佐藤", "健", "サトウ", "ケン", "1", "昭和50年5月5日", "世帯主")},
                {"person": person("佐藤", "葵", "サトウ", "アオイ", "2", "昭和52年7月7日", "妻")},
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(40),
        },
        status=201,
    )
    head, wife = r["atena_numbers"]
    died = clerk.ok("/residents/death", {"atena_number": head, "death_date": days_ago(1)})
    assert any("職権で世帯主" in w for w in died["warnings"])
    assert clerk.resident(wife)["snapshot"]["zokugara"] == "世帯主"


def test_move_out_planned_then_confirmed(clerk: Clerk) -> None:
    atenas = family_move_in(clerk, move_date=days_ago(100))["atena_numbers"]
    dest = {
        "address": {
            "prefecture": "大阪府",
            "city": "大阪市北区",
            "town": "梅田",
            "banchi": "1丁目1番",
        }
    }
    planned = clerk.ok(
        "/residents/move-out",
        {
            "atena_numbers": atenas,
            "destination": dest,
            "planned_date": (TODAY + timedelta(days=7)).isoformat(),
            "notified_date": TODAY.isoformat(),
        },
    )
    assert planned["reason"] == "国内転出"
    assert clerk.resident(atenas[0])["snapshot"]["status"] == "moving_out"
    assert clerk.search(kana="アオキ")["total"] == 3  # still residents until confirmed
    confirmed = clerk.ok(
        "/residents/move-out/confirm", {"atena_numbers": atenas, "moved_date": TODAY.isoformat()}
    )
    assert confirmed["atena_numbers"] == atenas
    snap = clerk.resident(atenas[0])["snapshot"]
    assert snap["status"] == "moved_out" and snap["move_out"]["confirmed"] is True
    assert clerk.search(kana="アオキ")["total"] == 0
    assert clerk.search(kana="アオキ", include_removed=True)["total"] == 3
    again = clerk.post(
        "/residents/move-out",
        {
            "atena_numbers": [atenas[0]],
            "destination": dest,
            "planned_date": TODAY.isoformat(),
            "notified_date": TODAY.isoformat(),
        },
    )
    assert again.status_code == 422
    assert "住民ではない" in again.json()["detail"]


def test_returning_resident_keeps_the_atena_number(clerk: Clerk) -> None:
    code = "1234567890"
    from kikan.platform.ids import juminhyo_code_check_digit

    jcode = code + str(juminhyo_code_check_digit(code))
    first = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {
                    "person": person(
                        "髙橋",
                        "𠮷男",
                        "タカハシ",
                        "ヨシオ",
                        "1",
                        "昭和40年頃",
                        "世帯主",
                        juminhyo_code=jcode,
                    )
                }
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(300),
        },
        status=201,
    )
    atena = first["atena_numbers"][0]
    assert clerk.search(name="高橋")["results"][0]["full_name"] == "髙橋　𠮷男"
    clerk.ok(
        "/residents/move-out",
        {
            "atena_numbers": [atena],
            "destination": PRIOR,
            "planned_date": days_ago(200),
            "notified_date": days_ago(200),
        },
    )
    clerk.ok("/residents/move-out/confirm", {"atena_numbers": [atena], "moved_date": days_ago(200)})
    back = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {
                    "person": person(
                        "髙橋",
                        "𠮷男",
                        "タカハシ",
                        "ヨシオ",
                        "1",
                        "昭和40年頃",
                        "世帯主",
                        juminhyo_code=jcode,
                    )
                }
            ],
            "address": ADDRESS2,
            "prior_address": PRIOR,
            "move_date": days_ago(5),
        },
        status=201,
    )
    assert back["atena_numbers"] == [atena]
    assert [h["reason"] for h in clerk.history(atena)] == [
        "国内転入",
        "国内転出",
        "国内転出",
        "国内転入",
    ]
    assert clerk.resident(atena)["display"]["birth_date"] == "昭和40年頃"


def test_cancel_restores_and_as_of_ignores_the_cancelled_change(clerk: Clerk) -> None:
    r = family_move_in(clerk, move_date=days_ago(50))
    head = r["atena_numbers"][0]
    household = r["household_numbers"][0]
    clerk.ok(
        "/residents/move-within",
        {"household_number": household, "address": ADDRESS2, "move_date": days_ago(10)},
    )
    assert clerk.resident(head)["display"]["address"].endswith("松町二丁目8番地")
    version = clerk.resident(head)["version"]
    cancelled = clerk.ok(
        f"/residents/{head}/cancel",
        {"note": "別世帯の転居届と取り違え"},
        headers={"If-Match": f'"{version}"'},
    )
    assert cancelled["reason"] == "異動の取消し（修正）"
    assert clerk.resident(head)["display"]["address"].endswith("松町一丁目1番地")
    history = clerk.history(head)
    assert [(h["history_no"], h["reason"], h["cancelled"]) for h in history] == [
        (1, "国内転入", False),
        (2, "転居", True),
        (3, "異動の取消し（修正）", False),
    ]
    as_of = clerk.get(f"/residents/{head}/as-of", params={"date": days_ago(5)}).json()
    assert as_of["history_no"] == 1


def test_as_known_at_shows_what_the_register_said_before_a_correction(clerk: Clerk) -> None:
    atena = family_move_in(clerk, move_date=days_ago(20))["atena_numbers"][1]
    before = datetime.now(UTC)
    version = clerk.resident(atena)["version"]
    clerk.ok(
        f"/residents/{atena}/corrections",
        {"changes": {"given_name": "華子"}, "note": "届書の誤記"},
        headers={"If-Match": str(version)},
    )
    now_view = clerk.get(f"/residents/{atena}/as-of", params={"date": days_ago(15)}).json()
    assert now_view["snapshot"]["given_name"] == "華子"
    then_view = clerk.get(
        f"/residents/{atena}/as-of", params={"date": days_ago(15), "known_at": before.isoformat()}
    ).json()
    assert then_view["snapshot"]["given_name"] == "花子"
    assert [h["history_no"] for h in clerk.history(atena, known_at=before.isoformat())] == [1]


def test_bad_input_is_refused_in_japanese_and_writes_nothing(clerk: Clerk, db: Database) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    head = r["atena_numbers"][0]
    household = r["household_numbers"][0]
    before = _count_history(db, clerk.tenant)

    def refused(
        path: str, body: dict[str, object], status: int = 422, **kw: object
    ) -> dict[str, object]:
        resp = clerk.post(path, body, **kw)
        assert resp.status_code == status, resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        return resp.json()  # type: ignore[no-any-return]

    future = refused(
        "/residents/move-in",
        {
            "movers": [
                {"person": person("未来", "人", "ミライ", "ヒト", "1", "平成1年1月8日", "世帯主")}
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": (TODAY + timedelta(days=1)).isoformat(),
        },
    )
    assert future["item"] == "異動日"
    body = {
        "movers": [
            {
                "person": person(
                    "誤",
                    "番号",
                    "アヤマリ",
                    "バンゴウ",
                    "1",
                    "平成1年1月8日",
                    "世帯主",
                    juminhyo_code="12345678901",
                )
            }
        ],
        "address": ADDRESS,
        "prior_address": PRIOR,
        "move_date": days_ago(1),
    }
    jc = refused("/residents/move-in", body)
    if "検査数字" in str(jc["detail"]):
        assert jc["item"] == "住民票コード"
    two_heads = refused(
        "/residents/move-in",
        {
            "movers": [
                {"person": person("二", "人目", "ニ", "ニンメ", "1", "平成1年1月8日", "世帯主")}
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(1),
            "join_household": household,
        },
    )
    assert two_heads["item"] == "続柄" and "世帯主を二人以上" in str(two_heads["detail"])
    grandchild = refused(
        "/residents/birth",
        {
            "household_number": household,
            "person": person("青木", "孫", "アオキ", "マゴ", "1", days_ago(1), "孫"),
        },
    )
    assert grandchild["item"] == "続柄"
    impossible = refused(
        "/residents/birth",
        {
            "household_number": household,
            "person": person("青木", "無", "アオキ", "ナシ", "1", "令和5年2月29日", "子"),
        },
    )
    assert impossible["item"] == "生年月日"
    stale = refused(
        f"/residents/{head}/corrections",
        {"changes": {"given_name": "太朗"}},
        status=409,
        headers={"If-Match": '"999"'},
    )
    assert stale["type"] == "urn:kikan:problem:stale-version"
    assert _count_history(db, clerk.tenant) == before


def test_support_measure_is_flagged_everywhere_and_in_events(clerk: Clerk, db: Database) -> None:
    atena = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    m = clerk.ok(
        f"/residents/{atena}/support-measures",
        {
            "start_date": TODAY.isoformat(),
            "perpetrators": [{"氏名": "加害 太郎", "生年月日": "昭和60年1月1日"}],
        },
        status=201,
    )
    assert m["end_date"] == (TODAY.replace(year=TODAY.year + 1) - timedelta(days=1)).isoformat()
    assert clerk.resident(atena)["support_measure"][0]["kind"] == "support"
    flags = {
        r["atena_number"]: r["support_measure"] for r in clerk.search(kana="アオキ")["results"]
    }
    assert flags[atena] is True and sum(flags.values()) == 1
    with db.unit_of_work(clerk.tenant) as uow:
        last = uow.session.scalars(
            select(OutboxEventRow).order_by(OutboxEventRow.seq.desc())
        ).first()
        assert last is not None and last.payload["support_measure"] == [atena]


def test_my_number_is_stored_encrypted(clerk: Clerk, admin_db: Database) -> None:
    body = "31234567890"
    number = body + str(my_number_check_digit(body))
    r = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {
                    "person": person(
                        "番号", "保持", "バンゴウ", "ホジ", "2", "平成2年2月2日", "世帯主"
                    ),
                    "my_number": number,
                }
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(2),
        },
        status=201,
    )
    snap = clerk.resident(r["atena_numbers"][0])["snapshot"]
    assert snap["has_my_number"] is True and "my_number_token" not in snap
    with admin_db.engine.connect() as conn:
        dump = " ".join(
            str(v)
            for t in ("residents_history", "residents_current", "audit_records", "platform_outbox")
            for row in conn.execute(text(f"SELECT * FROM {t}"))
            for v in row
        )
    assert number not in dump
    bad = clerk.post(
        "/residents/move-in",
        {
            "movers": [
                {
                    "person": person(
                        "番号", "誤り", "バンゴウ", "アヤマリ", "2", "平成2年2月2日", "世帯主"
                    ),
                    "my_number": body + "0" if my_number_check_digit(body) else body + "1",
                }
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(2),
        },
    )
    assert bad.status_code == 422 and bad.json()["item"] == "個人番号"
    assert number not in bad.text


def test_search_finds_by_tsuushou_and_kyuuji_and_caps_large_totals(clerk: Clerk) -> None:
    foreign = person(
        "王",
        "小明",
        "ワン",
        "シャオミン",
        "1",
        "1990-05-05",
        "世帯主",
        resident_kind="2",
        tsuushou="山田太郎",
        tsuushou_kana="ヤマダタロウ",
        roman_name="WANG XIAOMING",
        foreign={
            "nationality": "156",
            "article_30_45": "1",
            "status_of_residence": "210",
            "period_of_stay": "3年",
            "expiry_date": "2028-05-05",
            "card_number": "AB12345678CD",
        },
    )
    foreign.pop("honseki")
    r = clerk.ok(
        "/residents/move-in",
        {
            "movers": [{"person": foreign}],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(3),
        },
        status=201,
    )
    atena = r["atena_numbers"][0]
    assert [x["atena_number"] for x in clerk.search(name="山田")["results"]] == [atena]
    assert [x["atena_number"] for x in clerk.search(name="やまだたろう")["results"]] == [atena]
    assert [x["atena_number"] for x in clerk.search(name="wang")["results"]] == [atena]
    japanese = family_move_in(clerk, move_date=days_ago(3))["atena_numbers"][1]
    version = clerk.resident(japanese)["version"]
    kyuuji = clerk.post(
        f"/residents/{japanese}/kyuuji",
        {"kyuuji": "佐藤", "kyuuji_kana": "サトウ", "requested_date": days_ago(1)},
        headers={"If-Match": str(version)},
    )
    assert kyuuji.status_code == 200, kyuuji.text
    assert japanese in [x["atena_number"] for x in clerk.search(name="佐藤花子")["results"]]
    assert japanese in [x["atena_number"] for x in clerk.search(name="サトウハナコ")["results"]]
    page = clerk.search(kana="ア")
    assert page["more_than_total"] is False and page["total"] >= 3


def test_dates_show_in_the_calendar_the_law_wants_and_corrections_keep_them(clerk: Clerk) -> None:
    """Spec 1.1.9: 和暦 for Japanese residents, 西暦 for foreign residents' birth dates,
    whatever calendar the clerk typed; a correction re-validates the stored value."""
    foreign = person(
        "李",
        "美",
        "リ",
        "ミ",
        "2",
        "平成2年3月4日",
        "世帯主",
        resident_kind="2",
        foreign={"nationality": "410", "article_30_45": "2"},
    )
    foreign.pop("honseki")
    r = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {"person": foreign},
                {"person": person("李", "子", "リ", "コ", "2", "昭和60年頃", "同居人")},
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(2),
        },
        status=201,
    )
    foreigner, japanese = r["atena_numbers"]
    assert clerk.resident(foreigner)["display"]["birth_date"] == "1990年3月4日"
    assert clerk.resident(japanese)["display"]["birth_date"] == "昭和60年頃"
    for atena, new_name in ((foreigner, "美玲"), (japanese, "和子")):
        version = clerk.resident(atena)["version"]
        clerk.ok(
            f"/residents/{atena}/corrections",
            {"changes": {"given_name": new_name}},
            headers={"If-Match": str(version)},
        )
        assert clerk.resident(atena)["snapshot"]["given_name"] == new_name
    assert clerk.resident(foreigner)["display"]["birth_date"] == "1990年3月4日"
    assert clerk.resident(japanese)["display"]["birth_date"] == "昭和60年頃"


def test_company_marks_are_refused_in_names(clerk: Clerk) -> None:
    """Spec 2.1.2 (実装しない): （株）（有） and the like are not entered into persons' names."""
    for family in ("（株）山田", "山田(有)", "㈱山田"):
        r = clerk.post(
            "/residents/move-in",
            {
                "movers": [
                    {
                        "person": person(
                            family, "太郎", "ヤマダ", "タロウ", "1", "平成1年1月8日", "世帯主"
                        )
                    }
                ],
                "address": ADDRESS,
                "prior_address": PRIOR,
                "move_date": days_ago(1),
            },
        )
        assert r.status_code == 422, r.text
        assert r.json()["item"] == "氏" and "（株）" in r.json()["detail"]


def test_household_split_then_the_heads_death(clerk: Clerk) -> None:
    """世帯分離, then the remaining household's head dies: with one member left she becomes
    世帯主 ex officio (spec 4.0.4), and the split-off household is untouched."""
    r = family_move_in(clerk, move_date=days_ago(90))
    head, wife, child = r["atena_numbers"]
    old = r["household_numbers"][0]
    split = clerk.ok(
        "/households/split",
        {
            "household_number": old,
            "zokugara": {child: "世帯主"},
            "change_date": days_ago(20),
        },
    )
    new = next(h for h in split["household_numbers"] if h != old)
    died = clerk.ok("/residents/death", {"atena_number": head, "death_date": days_ago(3)})
    assert wife in died["atena_numbers"]  # the ex officio head change is part of the change
    assert clerk.resident(wife)["snapshot"]["zokugara"] == "世帯主"
    assert [h["reason"] for h in clerk.history(wife)] == ["国内転入", "世帯主変更"]
    assert clerk.resident(child)["snapshot"]["household_number"] == new
    assert clerk.resident(child)["snapshot"]["zokugara"] == "世帯主"
    assert [h["reason"] for h in clerk.history(child)] == ["国内転入", "世帯分離"]


def test_a_person_two_of_whose_names_match_is_listed_once(clerk: Clerk) -> None:
    r = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {
                    "person": person(
                        "山田", "花子", "ヤマダ", "ハナコ", "2", "昭和50年1月1日", "世帯主"
                    )
                }
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(5),
        },
        status=201,
    )
    atena = r["atena_numbers"][0]
    version = clerk.resident(atena)["version"]
    k = clerk.post(
        f"/residents/{atena}/kyuuji",
        {"kyuuji": "山本", "kyuuji_kana": "ヤマモト", "requested_date": days_ago(1)},
        headers={"If-Match": str(version)},
    )
    assert k.status_code == 200, k.text
    found = clerk.search(name="山")
    assert [x["atena_number"] for x in found["results"]].count(atena) == 1
    assert found["total"] == 1
    assert [x["atena_number"] for x in clerk.search(name="やま")["results"]] == [atena]
