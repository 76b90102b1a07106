"""旧氏・通称, 個人番号 and 住民票コード changes, 職権記載・職権消除 and the 転入 variants
(未届転入, 国外転入等, 第30条の46・47), told through the HTTP API on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from kikan.platform.crypto import KeyRing
from kikan.platform.ids import juminhyo_code_check_digit, my_number_check_digit
from kikan.platform.store import AuditRecordRow, OutboxEventRow
from kikan.platform.uow import Database
from kikan.residents.domain import Reason
from kikan.residents.store import CurrentRow, HistoryRow
from kikan.standard.codes import code_table
from tests.conftest import bearer, create_staff
from tests.residents.conftest import (
    ADDRESS,
    PRIOR,
    TODAY,
    Clerk,
    days_ago,
    family_move_in,
    person,
)


def _written(db: Database, tenant: str) -> tuple[int, int]:
    """(history rows, outbox events) of the tenant: both must stay put when a change is refused."""
    with db.unit_of_work(tenant) as uow:
        history = uow.session.scalar(select(func.count()).select_from(HistoryRow)) or 0
        events = uow.session.scalar(select(func.count()).select_from(OutboxEventRow)) or 0
        return history, events


def _refused(
    clerk: Clerk, path: str, body: dict[str, Any], status: int = 422, **kw: Any
) -> dict[str, Any]:
    r = clerk.post(path, body, **kw)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()  # type: ignore[no-any-return]


def _my_number(body11: str) -> str:
    return body11 + str(my_number_check_digit(body11))


def _wrong_check_digit(valid: str) -> str:
    return valid[:-1] + str((int(valid[-1]) + 1) % 10)


def _juminhyo_code(body10: str) -> str:
    return body10 + str(juminhyo_code_check_digit(body10))


def foreigner(
    family: str, given: str, kana: str, sex: str, zokugara: str, **foreign: Any
) -> dict[str, Any]:
    """A 中長期在留者 from China (国名コード 156) with a 在留カード."""
    return {
        "family_name": family,
        "given_name": given,
        "family_name_kana": kana,
        "roman_name": "WANG WEI",
        "sex": sex,
        "birth_date": "1990年5月1日",
        "zokugara": zokugara,
        "resident_kind": "2",
        "foreign": {
            "nationality": "156",
            "article_30_45": "1",
            "status_of_residence": "210",  # 技術・人文知識・国際業務
            "period_of_stay": "3年",
            "expiry_date": (TODAY.replace(year=TODAY.year + 3)).isoformat(),
            "card_number": "AB12345678CD",
            **foreign,
        },
    }


FROM_BEIJING = {"country_code": "156", "foreign_address": "北京市朝陽区建国路1号"}


def _foreigner_moves_in(clerk: Clerk, **body: Any) -> dict[str, Any]:
    return clerk.ok(
        "/residents/move-in",
        {
            "movers": [{"person": foreigner("王", "偉", "ワン", "1", "世帯主")}],
            "address": ADDRESS,
            "reason": "国外転入等",
            "prior_address": FROM_BEIJING,
            "move_date": days_ago(10),
            **body,
        },
        status=201,
    )


def test_every_reason_is_in_the_idou_jiyu_code_table() -> None:
    table = code_table("idou_jiyu")
    assert [r.value for r in Reason if not table.has_label(r.value)] == []


# ---------------------------------------------------------------- 旧氏


def test_kyuuji_is_recorded_changed_and_deleted_on_request(clerk: Clerk) -> None:
    wife = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    added = clerk.ok(
        f"/residents/{wife}/kyuuji",
        {"kyuuji": "山田", "kyuuji_kana": "ヤマダ", "requested_date": days_ago(2)},
    )
    assert added["reason"] == "旧氏の記載"
    snap = clerk.resident(wife)["snapshot"]
    assert (snap["kyuuji"], snap["kyuuji_kana"]) == ("山田", "ヤマダ")
    entry = clerk.history(wife)[-1]
    assert (entry["reason"], entry["valid_from"], entry["notified_date"]) == (
        "旧氏の記載",
        days_ago(2),
        days_ago(2),  # 請求日
    )
    changed = clerk.ok(
        f"/residents/{wife}/kyuuji",
        {"kyuuji": "髙田", "requested_date": days_ago(1)},
        headers={"If-Match": f'"{added["versions"][wife]}"'},
    )
    assert changed["reason"] == "旧氏の変更"
    assert clerk.resident(wife)["snapshot"]["kyuuji_kana"] == ""  # kana is optional
    deleted = clerk.ok(f"/residents/{wife}/kyuuji/delete", {"requested_date": TODAY.isoformat()})
    assert deleted["reason"] == "旧氏の削除"
    assert clerk.resident(wife)["snapshot"]["kyuuji"] == ""
    assert [h["reason"] for h in clerk.history(wife)] == [
        "国内転入",
        "旧氏の記載",
        "旧氏の変更",
        "旧氏の削除",
    ]


# ---------------------------------------------------------------- 通称


def test_tsuushou_is_recorded_and_deleted_on_offer(clerk: Clerk) -> None:
    wang = _foreigner_moves_in(clerk)["atena_numbers"][0]
    added = clerk.ok(
        f"/residents/{wang}/tsuushou",
        {"tsuushou": "山本　大", "tsuushou_kana": "ヤマモト　ダイ", "offered_date": days_ago(1)},
    )
    assert added["reason"] == "通称の記載"
    snap = clerk.resident(wang)["snapshot"]
    assert (snap["tsuushou"], snap["tsuushou_kana"]) == ("山本　大", "ヤマモト　ダイ")
    assert clerk.history(wang)[-1]["notified_date"] == days_ago(1)  # 申出日
    again = _refused(
        clerk, f"/residents/{wang}/tsuushou", {"tsuushou": "川本", "offered_date": days_ago(1)}
    )
    assert again["item"] == "通称" and "削除の後に記載" in again["detail"]
    deleted = clerk.ok(f"/residents/{wang}/tsuushou/delete", {"offered_date": TODAY.isoformat()})
    assert deleted["reason"] == "通称の削除"
    assert clerk.resident(wang)["snapshot"]["tsuushou"] == ""


def test_kyuuji_and_tsuushou_refuse_the_wrong_resident_kind(clerk: Clerk, db: Database) -> None:
    japanese = family_move_in(clerk, move_date=days_ago(30))["atena_numbers"][1]
    wang = _foreigner_moves_in(clerk)["atena_numbers"][0]
    before = _written(db, clerk.tenant)
    for atena, path, body, item, says in [
        (wang, "kyuuji", {"kyuuji": "王", "requested_date": days_ago(1)}, "旧氏", "日本人住民のみ"),
        (wang, "kyuuji/delete", {"requested_date": days_ago(1)}, "旧氏", "日本人住民のみ"),
        (
            japanese,
            "tsuushou",
            {"tsuushou": "花", "offered_date": days_ago(1)},
            "通称",
            "外国人住民のみ",
        ),
        (japanese, "tsuushou/delete", {"offered_date": days_ago(1)}, "通称", "外国人住民のみ"),
        (japanese, "kyuuji/delete", {"requested_date": days_ago(1)}, "旧氏", "記載されていません"),
        (japanese, "kyuuji", {"kyuuji": "  ", "requested_date": days_ago(1)}, "旧氏", "入力"),
        (japanese, "kyuuji", {"kyuuji": "山田", "requested_date": "2999-01-01"}, "請求日", "日付"),
    ]:
        problem = _refused(clerk, f"/residents/{atena}/{path}", body)
        assert problem["item"] == item and says in problem["detail"], (path, problem)
    stale = _refused(
        clerk,
        f"/residents/{japanese}/kyuuji",
        {"kyuuji": "山田", "requested_date": days_ago(1)},
        status=409,
        headers={"If-Match": '"99"'},
    )
    assert stale["type"] == "urn:kikan:problem:stale-version" and japanese in stale["detail"]
    assert _written(db, clerk.tenant) == before


def test_a_foreign_resident_cannot_move_in_with_a_kyuuji(clerk: Clerk) -> None:
    problem = _refused(
        clerk,
        "/residents/move-in",
        {
            "movers": [
                {"person": {**foreigner("王", "偉", "ワン", "1", "世帯主"), "kyuuji": "李"}}
            ],
            "address": ADDRESS,
            "reason": "国外転入等",
            "move_date": days_ago(1),
        },
    )
    assert problem["item"] == "旧氏"


# ---------------------------------------------------------------- 個人番号


def test_my_number_change_is_encrypted_indexed_and_never_echoed(
    clerk: Clerk, db: Database, admin_db: Database
) -> None:
    old_number, new_number = _my_number("31234567890"), _my_number("41234567891")
    r = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {
                    "person": person(
                        "番号", "変更", "バンゴウ", "ヘンコウ", "2", "平成2年2月2日", "世帯主"
                    ),
                    "my_number": old_number,
                }
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(20),
        },
        status=201,
    )
    atena = r["atena_numbers"][0]
    resp = clerk.post(
        f"/residents/{atena}/my-number",
        {"my_number": new_number, "change_date": days_ago(1), "notified_date": days_ago(1)},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["reason"] == "個人番号の変更請求"
    assert new_number not in resp.text
    snap = clerk.resident(atena)["snapshot"]
    assert snap["has_my_number"] is True and "my_number_token" not in snap
    keyring: KeyRing = clerk.client.app.state.keyring  # type: ignore[attr-defined]
    with db.unit_of_work(clerk.tenant) as uow:
        current = uow.session.scalars(
            select(CurrentRow).where(CurrentRow.atena_number == atena)
        ).one()
        assert current.mynumber_index == keyring.blind_index(new_number, context=clerk.tenant)
        rows = uow.session.scalars(
            select(HistoryRow).where(HistoryRow.atena_number == atena).order_by(HistoryRow.id)
        ).all()
        assert [row.reason for row in rows] == ["国内転入", "個人番号の変更請求"]
        token = rows[-1].snapshot["my_number_token"]
        assert keyring.decrypt_my_number(token, context=clerk.tenant).reveal() == new_number
        audit = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.function == "住民記録：個人番号の変更請求")
        ).one()
        assert audit.mynumber_accessed is True
    with admin_db.engine.connect() as conn:
        dump = " ".join(
            str(v)
            for t in ("residents_history", "residents_current", "audit_records", "platform_outbox")
            for row in conn.execute(text(f"SELECT * FROM {t}"))
            for v in row
        )
    assert new_number not in dump and old_number not in dump
    ex_officio = clerk.ok(
        f"/residents/{atena}/my-number",
        {"my_number": old_number, "reason": "個人番号の職権修正", "change_date": TODAY.isoformat()},
    )
    assert ex_officio["reason"] == "個人番号の職権修正"


def test_bad_my_numbers_are_refused_without_echoing_them(clerk: Clerk, db: Database) -> None:
    mine, theirs = _my_number("51234567890"), _my_number("61234567890")
    atenas = []
    for given, number in (("一", mine), ("二", theirs)):
        r = clerk.ok(
            "/residents/move-in",
            {
                "movers": [
                    {
                        "person": person(
                            "番号", given, "バンゴウ", "イチ", "1", "平成3年3月3日", "世帯主"
                        ),
                        "my_number": number,
                    }
                ],
                "address": ADDRESS,
                "prior_address": PRIOR,
                "move_date": days_ago(20),
            },
            status=201,
        )
        atenas.append(r["atena_numbers"][0])
    atena = atenas[0]
    before = _written(db, clerk.tenant)
    wrong = _wrong_check_digit(_my_number("71234567890"))
    for number, says in [
        (wrong, "検査数字"),
        ("1234", "12桁"),
        (mine, "現在の個人番号と同じ"),
        (theirs, "変更できません"),
        ("", "入力してください"),
    ]:
        resp = clerk.post(
            f"/residents/{atena}/my-number", {"my_number": number, "change_date": days_ago(1)}
        )
        assert resp.status_code == 422, resp.text
        problem = resp.json()
        assert problem["item"] == "個人番号" and says in problem["detail"], problem
        if number:
            assert number not in resp.text
    bad_reason = clerk.post(
        f"/residents/{atena}/my-number",
        {"my_number": wrong, "reason": "個人番号の職権記載", "change_date": days_ago(1)},
    )
    assert bad_reason.status_code == 422 and wrong not in bad_reason.text
    stale = _refused(
        clerk,
        f"/residents/{atena}/my-number",
        {"my_number": _my_number("81234567890"), "change_date": days_ago(1)},
        status=409,
        headers={"If-Match": '"99"'},
    )
    assert stale["type"] == "urn:kikan:problem:stale-version"
    assert _written(db, clerk.tenant) == before


def test_my_number_endpoint_is_no_oracle_for_other_residents(clerk: Clerk, db: Database) -> None:
    """A number held by someone else is refused without saying so (nor whose it is); each
    refusal is audited about the edited person only, and a staff member who keeps getting them
    must wait (429), so the endpoint cannot be used to look numbers up."""
    numbers = [_my_number(f"{d}1234567890") for d in (4, 5, 6, 7, 8)]
    atenas = []
    for given, number in zip(("一", "二", "三", "四", "五"), numbers, strict=True):
        r = clerk.ok(
            "/residents/move-in",
            {
                "movers": [
                    {
                        "person": person(
                            "照会", given, "ショウカイ", "イチ", "1", "平成3年3月3日", "世帯主"
                        ),
                        "my_number": number,
                    }
                ],
                "address": ADDRESS,
                "prior_address": PRIOR,
                "move_date": days_ago(20),
            },
            status=201,
        )
        atenas.append(r["atena_numbers"][0])
    edited = atenas[0]
    before = _written(db, clerk.tenant)
    for held in numbers[1:4]:
        problem = _refused(
            clerk, f"/residents/{edited}/my-number", {"my_number": held, "change_date": days_ago(1)}
        )
        assert problem["code"] == "mynumber.unusable" and problem["item"] == "個人番号"
        assert "他の住民" not in problem["detail"] and "記載されています" not in problem["detail"]
        assert held not in str(problem) and not any(a in str(problem) for a in atenas[1:])
    waiting = clerk.post(
        f"/residents/{edited}/my-number", {"my_number": numbers[4], "change_date": days_ago(1)}
    )
    assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) >= 1
    assert waiting.json()["type"] == "urn:kikan:problem:mynumber-throttled"
    assert _written(db, clerk.tenant) == before
    with db.unit_of_work(clerk.tenant) as uow:
        denials = uow.session.scalars(
            select(AuditRecordRow).where(
                AuditRecordRow.function == "個人番号の変更", AuditRecordRow.outcome == "denied"
            )
        ).all()
        assert len(denials) == 3
        assert all(d.subjects == [edited] and d.mynumber_accessed for d in denials)


# ---------------------------------------------------------------- 住民票コード


def test_juminhyo_code_change_request_and_ex_officio_entry(clerk: Clerk, db: Database) -> None:
    r = family_move_in(clerk, move_date=days_ago(30))
    head, wife = r["atena_numbers"][:2]
    first, second = _juminhyo_code("1000000001"), _juminhyo_code("2000000002")
    before = _written(db, clerk.tenant)
    none_yet = _refused(
        clerk,
        f"/residents/{head}/juminhyo-code",
        {"juminhyo_code": first, "change_date": days_ago(1)},
    )
    assert none_yet["item"] == "住民票コード" and "職権記載" in none_yet["detail"]
    wrong = _refused(
        clerk,
        f"/residents/{head}/juminhyo-code",
        {
            "juminhyo_code": _wrong_check_digit(first),
            "reason": "住民票コードの職権記載",
            "change_date": days_ago(1),
        },
    )
    assert wrong["item"] == "住民票コード" and "検査数字" in wrong["detail"]
    assert _written(db, clerk.tenant) == before
    entered = clerk.ok(
        f"/residents/{head}/juminhyo-code",
        {"juminhyo_code": first, "reason": "住民票コードの職権記載", "change_date": days_ago(1)},
    )
    assert entered["reason"] == "住民票コードの職権記載"
    changed = clerk.ok(
        f"/residents/{head}/juminhyo-code",
        {
            "juminhyo_code": second,
            "change_date": TODAY.isoformat(),
            "notified_date": TODAY.isoformat(),
        },
        headers={"If-Match": f'"{entered["versions"][head]}"'},
    )
    assert changed["reason"] == "住民票コードの変更請求"
    assert clerk.resident(head)["snapshot"]["juminhyo_code"] == second
    assert clerk.search(juminhyo_code=second)["results"][0]["atena_number"] == head
    assert [h["reason"] for h in clerk.history(head)] == [
        "国内転入",
        "住民票コードの職権記載",
        "住民票コードの変更請求",
    ]
    before = _written(db, clerk.tenant)
    taken = _refused(
        clerk,
        f"/residents/{wife}/juminhyo-code",
        {"juminhyo_code": second, "reason": "住民票コードの職権記載", "change_date": days_ago(1)},
    )
    assert taken["item"] == "住民票コード" and "他の住民" in taken["detail"]
    same = _refused(
        clerk,
        f"/residents/{head}/juminhyo-code",
        {"juminhyo_code": second, "change_date": days_ago(1)},
    )
    assert "同じ" in same["detail"]
    assert _written(db, clerk.tenant) == before


# ---------------------------------------------------------------- 職権記載・職権消除


def test_ex_officio_entry_after_naturalisation_needs_no_prior_address(clerk: Clerk) -> None:
    r = clerk.ok(
        "/residents/ex-officio-entry",
        {
            "movers": [
                {"person": person("林", "明", "ハヤシ", "アキラ", "1", "1990年5月1日", "世帯主")}
            ],
            "address": ADDRESS,
            "entry_date": days_ago(5),
            "notified_date": days_ago(3),  # 戸籍通知日
            "reason": "職権記載（帰化等）",
            "note": "帰化の戸籍通知による",
        },
        status=201,
    )
    atena = r["atena_numbers"][0]
    snap = clerk.resident(atena)["snapshot"]
    assert snap["prior_address"] is None and snap["status"] == "resident"
    entry = clerk.history(atena)[0]
    assert (entry["reason"], entry["valid_from"], entry["notified_date"], entry["note"]) == (
        "職権記載（帰化等）",
        days_ago(5),
        days_ago(3),
        "帰化の戸籍通知による",
    )
    plain = clerk.ok(
        "/residents/ex-officio-entry",
        {
            "movers": [
                {"person": person("林", "恵", "ハヤシ", "メグミ", "2", "1992年1月1日", "妻")}
            ],
            "address": ADDRESS,
            "entry_date": days_ago(1),
            "join_household": r["household_numbers"][0],
        },
        status=201,
    )
    assert plain["reason"] == "職権記載"


def test_ex_officio_entry_refusals(clerk: Clerk, db: Database) -> None:
    before = _written(db, clerk.tenant)
    wrong_kind = _refused(
        clerk,
        "/residents/ex-officio-entry",
        {
            "movers": [{"person": foreigner("王", "偉", "ワン", "1", "世帯主")}],
            "address": ADDRESS,
            "entry_date": days_ago(1),
            "reason": "職権記載（帰化等）",
        },
    )
    assert wrong_kind["item"] == "異動事由" and "日本人住民のみ" in wrong_kind["detail"]
    create_staff(db, clerk.tenant, "madoguchi", ["counter"])
    counter_only = clerk.client.post(
        "/api/v1/residents/ex-officio-entry",
        json={
            "movers": [
                {"person": person("林", "明", "ハヤシ", "アキラ", "1", "1990年5月1日", "世帯主")}
            ],
            "address": ADDRESS,
            "entry_date": days_ago(1),
        },
        headers=bearer(clerk.client, clerk.tenant, "madoguchi"),
    )
    assert counter_only.status_code == 403
    assert _written(db, clerk.tenant) == before


def test_ex_officio_removal_of_the_head_promotes_the_one_left(clerk: Clerk, db: Database) -> None:
    r = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {"person": person("佐藤", "健", "サトウ", "ケン", "1", "昭和50年5月5日", "世帯主")},
                {"person": person("佐藤", "葵", "サトウ", "アオイ", "2", "昭和52年7月7日", "妻")},
            ],
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(400),
        },
        status=201,
    )
    head, wife = r["atena_numbers"]
    version = clerk.resident(head)["version"]
    removed = clerk.ok(
        "/residents/ex-officio-removal",
        {
            "atena_numbers": [head],
            "removal_date": days_ago(2),
            "note": "実態調査により居住の事実なし",
            "expected_versions": {head: version},
        },
    )
    assert removed["reason"] == "職権消除"
    assert any("職権で世帯主" in w for w in removed["warnings"])
    snap = clerk.resident(head)["snapshot"]
    assert (snap["status"], snap["removal_reason"], snap["removal_date"]) == (
        "removed",
        "職権消除",
        days_ago(2),
    )
    assert clerk.resident(wife)["snapshot"]["zokugara"] == "世帯主"
    assert clerk.search(kana="サトウ")["total"] == 1
    before = _written(db, clerk.tenant)
    twice = _refused(
        clerk,
        "/residents/ex-officio-removal",
        {"atena_numbers": [head], "removal_date": days_ago(1)},
    )
    assert twice["item"] == "住民状態" and "住民ではありません" in twice["detail"]
    wrong_kind = _refused(
        clerk,
        "/residents/ex-officio-removal",
        {"atena_numbers": [wife], "removal_date": days_ago(1), "reason": "職権消除（帰化等）"},
    )
    assert wrong_kind["item"] == "異動事由" and "外国人住民のみ" in wrong_kind["detail"]
    stale = _refused(
        clerk,
        "/residents/ex-officio-removal",
        {"atena_numbers": [wife], "removal_date": days_ago(1), "expected_versions": {wife: 1}},
        status=409,
    )
    assert stale["type"] == "urn:kikan:problem:stale-version"
    assert _written(db, clerk.tenant) == before


# ---------------------------------------------------------------- 転入の種類


def test_unreported_move_in_marks_the_prior_address(clerk: Clerk) -> None:
    r = family_move_in(clerk, prior_address={**PRIOR, "unreported": True})
    head = r["atena_numbers"][0]
    snap = clerk.resident(head)["snapshot"]
    assert snap["prior_address"]["unreported"] is True
    note = clerk.history(head)[0]["note"]
    assert note.startswith("未届転入") and "東京都千代田区千代田1番1号（未届）" in note


def test_foreign_resident_moves_in_from_abroad(clerk: Clerk) -> None:
    r = _foreigner_moves_in(clerk)
    assert r["reason"] == "国外転入等"
    snap = clerk.resident(r["atena_numbers"][0])["snapshot"]
    assert snap["resident_kind"] == "2" and snap["honseki"] is None
    assert snap["prior_address"] == {
        "address": None,
        "country_code": "156",
        "foreign_address": "北京市朝陽区建国路1号",
        "unreported": False,
    }
    foreign = snap["foreign"]
    assert (foreign["nationality"], foreign["status_of_residence"], foreign["card_number"]) == (
        "156",
        "210",
        "AB12345678CD",
    )
    assert foreign["became_foreign_resident"] == days_ago(10)
    assert clerk.search(kana="ワン")["results"][0]["resident_kind"] == "2"


def test_article_30_46_move_in_has_a_blank_prior_address(clerk: Clerk) -> None:
    r = clerk.ok(
        "/residents/move-in",
        {
            "movers": [
                {
                    "person": foreigner(
                        "金",
                        "敏",
                        "キム",
                        "2",
                        "世帯主",
                        nationality="410",
                        article_30_45="2",
                        status_of_residence="",
                        card_number="",
                    )
                }
            ],
            "address": ADDRESS,
            "reason": "国外転入等",
            "move_date": days_ago(3),
        },
        status=201,
    )
    snap = clerk.resident(r["atena_numbers"][0])["snapshot"]
    assert snap["prior_address"] is None
    assert snap["foreign"]["article_30_45"] == "2"  # 特別永住者


def test_move_in_variants_refuse_bad_foreign_items(clerk: Clerk, db: Database) -> None:
    before = _written(db, clerk.tenant)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"prior_address": None, "reason": "国内転入"}, "転入前住所"),
        ({"prior_address": {"country_code": "999", "foreign_address": "どこか"}}, "転入前住所"),
        (
            {
                "movers": [
                    {"person": foreigner("王", "偉", "ワン", "1", "世帯主", card_number="A1")}
                ]
            },
            "在留カード等の番号",
        ),
        (
            {
                "movers": [
                    {"person": foreigner("王", "偉", "ワン", "1", "世帯主", nationality="999")}
                ]
            },
            "国籍・地域",
        ),
        (
            {
                "movers": [
                    {"person": foreigner("王", "偉", "ワン", "1", "世帯主", article_30_45="9")}
                ]
            },
            "第30条の45に規定する区分",
        ),
        (
            {
                "movers": [
                    {
                        "person": foreigner(
                            "王", "偉", "ワン", "1", "世帯主", status_of_residence="999"
                        )
                    }
                ]
            },
            "在留資格",
        ),
    ]
    for change, item in cases:
        body = {
            "movers": [{"person": foreigner("王", "偉", "ワン", "1", "世帯主")}],
            "address": ADDRESS,
            "reason": "国外転入等",
            "prior_address": FROM_BEIJING,
            "move_date": days_ago(1),
            **change,
        }
        problem = _refused(clerk, "/residents/move-in", body)
        assert problem["item"].startswith(item), (change, problem)
    assert _written(db, clerk.tenant) == before
