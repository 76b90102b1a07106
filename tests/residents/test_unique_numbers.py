"""A My Number and a 住民票コード belong to one current resident (issue 14, item 1).

Why: `/my-number` refused a number held by another resident, but 転入 (and every other path that
sets a number) took it, so two current residents could share one. The rule is one shared check in
the service layer, and a partial unique index among current residents behind it for concurrent
requests, which must end as a Japanese 409 problem rather than a 500.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from kikan.platform.context import Context
from kikan.platform.ids import juminhyo_code_check_digit, my_number_check_digit
from kikan.platform.store import OutboxEventRow
from kikan.platform.uow import Database
from kikan.residents.service import _common
from kikan.residents.store import CurrentRow, HistoryRow
from tests.residents.conftest import ADDRESS, PRIOR, Clerk, days_ago, person


def _my_number(body11: str) -> str:
    return body11 + str(my_number_check_digit(body11))


def _code(body10: str) -> str:
    return body10 + str(juminhyo_code_check_digit(body10))


MINE, CODE = _my_number("31234567890"), _code("1000000001")


def _mover(given: str, zokugara: str = "世帯主", *, my_number: str = "", code: str = "") -> Any:
    extra = {"juminhyo_code": code} if code else {}
    mover: dict[str, Any] = {
        "person": person("番号", given, "バンゴウ", "イチ", "1", "平成3年3月3日", zokugara, **extra)
    }
    if my_number:
        mover["my_number"] = my_number
    return mover


def _move_in(clerk: Clerk, *movers: Any) -> Any:
    return clerk.post(
        "/residents/move-in",
        {
            "movers": list(movers),
            "address": ADDRESS,
            "prior_address": PRIOR,
            "move_date": days_ago(5),
        },
    )


def _written(db: Database, tenant: str) -> tuple[int, int]:
    with db.unit_of_work(tenant) as uow:
        history = uow.session.scalar(select(func.count()).select_from(HistoryRow)) or 0
        events = uow.session.scalar(select(func.count()).select_from(OutboxEventRow)) or 0
        return history, events


#: the refusal per item: a My Number's names nobody (no look-up oracle, issue 14 item 14)
CODES = {"個人番号": "mynumber.unusable", "住民票コード": "juminhyo_code.duplicate"}


def _refused(resp: Any, item: str, *secrets: str) -> None:
    assert resp.status_code == 422, resp.text
    problem = resp.json()
    assert problem["item"] == item and problem["code"] == CODES[item], problem
    assert resp.headers["content-type"] == "application/problem+json"
    for secret in secrets:
        assert secret not in resp.text


def _holder(clerk: Clerk) -> str:
    r = _move_in(clerk, _mover("一", my_number=MINE, code=CODE))
    assert r.status_code == 201, r.text
    return r.json()["atena_numbers"][0]  # type: ignore[no-any-return]


def test_move_in_refuses_a_my_number_or_code_held_by_a_current_resident(
    clerk: Clerk, db: Database
) -> None:
    _holder(clerk)
    before = _written(db, clerk.tenant)
    _refused(_move_in(clerk, _mover("二", my_number=MINE)), "個人番号", MINE)
    _refused(_move_in(clerk, _mover("二", code=CODE)), "住民票コード", CODE)
    assert _written(db, clerk.tenant) == before


def test_two_movers_of_one_request_cannot_share_a_number(clerk: Clerk, db: Database) -> None:
    before = _written(db, clerk.tenant)
    other = _my_number("41234567891")
    _refused(
        _move_in(clerk, _mover("一", my_number=other), _mover("二", "妻", my_number=other)),
        "個人番号",
        other,
    )
    code = _code("2000000002")
    _refused(
        _move_in(clerk, _mover("一", code=code), _mover("二", "妻", code=code)), "住民票コード"
    )
    assert _written(db, clerk.tenant) == before


def test_birth_and_ex_officio_entry_refuse_a_held_code(clerk: Clerk, db: Database) -> None:
    atena = _holder(clerk)
    household = clerk.resident(atena)["snapshot"]["household_number"]
    before = _written(db, clerk.tenant)
    born = clerk.post(
        "/residents/birth",
        {
            "household_number": household,
            "person": person(
                "番号", "三", "バンゴウ", "サン", "1", days_ago(2), "子", juminhyo_code=CODE
            ),
        },
    )
    _refused(born, "住民票コード")
    entered = clerk.post(
        "/residents/ex-officio-entry",
        {"movers": [_mover("四", my_number=MINE)], "address": ADDRESS, "entry_date": days_ago(3)},
    )
    _refused(entered, "個人番号", MINE)
    assert _written(db, clerk.tenant) == before


def test_cancelling_a_code_change_cannot_bring_back_a_code_now_held_by_another(
    clerk: Clerk, db: Database
) -> None:
    first = _holder(clerk)
    new_code = _code("3000000003")
    changed = clerk.ok(
        f"/residents/{first}/juminhyo-code", {"juminhyo_code": new_code, "change_date": days_ago(1)}
    )
    assert changed["reason"] == "住民票コードの変更請求"
    second = _move_in(clerk, _mover("二", code=CODE))  # the freed code goes to someone else
    assert second.status_code == 201, second.text
    before = _written(db, clerk.tenant)
    _refused(clerk.post(f"/residents/{first}/cancel", {}), "住民票コード")
    assert _written(db, clerk.tenant) == before


def test_cancelling_a_my_number_change_brings_back_its_index_and_the_rule(
    clerk: Clerk, db: Database
) -> None:
    """異動の取消し of a 個人番号の変更 restores the earlier number: the projection's blind index
    follows it, so the uniqueness rule sees the number that will be on the register."""
    first = _holder(clerk)
    new_number = _my_number("41234567891")
    clerk.ok(f"/residents/{first}/my-number", {"my_number": new_number, "change_date": days_ago(1)})
    second = _move_in(clerk, _mover("二", my_number=MINE))  # the freed number, someone else
    assert second.status_code == 201, second.text
    before = _written(db, clerk.tenant)
    _refused(clerk.post(f"/residents/{first}/cancel", {}), "個人番号", MINE)
    assert _written(db, clerk.tenant) == before
    # once the other holder is gone, the cancel goes through and the index is the old one
    clerk.ok(
        "/residents/ex-officio-removal",
        {"atena_numbers": [second.json()["atena_numbers"][0]], "removal_date": days_ago(1)},
    )
    clerk.ok(f"/residents/{first}/cancel", {})
    with db.unit_of_work(clerk.tenant) as uow:
        index = uow.session.scalar(
            select(CurrentRow.mynumber_index).where(CurrentRow.atena_number == first)
        )
    again = _move_in(clerk, _mover("三", my_number=new_number))  # the cancelled number is free
    assert again.status_code == 201, again.text
    _refused(_move_in(clerk, _mover("四", my_number=MINE)), "個人番号", MINE)
    assert index


def test_former_residents_do_not_hold_their_numbers(clerk: Clerk) -> None:
    """The rule (and the index) covers current residents: a 消除 frees the number."""
    atena = _holder(clerk)
    removed = clerk.ok(
        "/residents/ex-officio-removal",
        {"atena_numbers": [atena], "removal_date": days_ago(1), "reason": "職権消除"},
    )
    assert removed["atena_numbers"] == [atena]
    again = _move_in(clerk, _mover("別人", my_number=MINE))
    assert again.status_code == 201, again.text


def test_the_database_refuses_what_a_concurrent_request_slipped_past_the_check(
    clerk: Clerk, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two concurrent 転入 with one number both pass the check (neither sees the other's row);
    the unique index refuses the second, as a Japanese 409 problem that names the item."""
    _holder(clerk)
    before = _written(db, clerk.tenant)
    monkeypatch.setattr(_common, "check_unique_numbers", lambda *a, **k: None, raising=False)
    for mover, item, secret in [
        (_mover("二", my_number=MINE), "個人番号", MINE),
        (_mover("二", code=CODE), "住民票コード", CODE),
    ]:
        r = _move_in(clerk, mover)
        assert r.status_code == 409, r.text
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["type"] == "urn:kikan:problem:duplicate-number"
        assert problem["item"] == item and "同時に" in problem["detail"]
        assert secret not in r.text
    assert _written(db, clerk.tenant) == before
    with db.unit_of_work(clerk.tenant) as uow:
        current = select(func.count()).select_from(CurrentRow)
        assert uow.session.scalar(current.where(CurrentRow.juminhyo_code == CODE)) == 1


def test_a_real_race_on_postgresql_ends_as_a_409(
    clerk: Clerk, db: Database, backend: Any, settings: Any
) -> None:
    """Not simulated: one unit of work holds an uncommitted 個人番号の変更 to a number while the
    API gives the same number to another resident. The API's check cannot see the uncommitted
    row; its write waits on the index entry until the first commits, then is refused — as a 409,
    not a 500. (Two 転入 do not race like this: both take the 宛名番号 sequence's row lock.)"""
    if backend.name != "postgres":
        pytest.skip("SQLite runs one writer at a time: this race cannot happen there")
    import threading

    from kikan.platform.crypto import load_keyring
    from kikan.residents import service
    from tests.conftest import TEST_ACTOR

    one = _move_in(clerk, _mover("一"))
    two = _move_in(clerk, _mover("二"))
    assert one.status_code == two.status_code == 201
    first, second = one.json()["atena_numbers"][0], two.json()["atena_numbers"][0]
    racer = _my_number("51234567890")
    ctx = Context(actor=TEST_ACTOR, keyring=load_keyring(settings))
    answer: dict[str, Any] = {}

    def api_change() -> None:
        answer["r"] = clerk.post(
            f"/residents/{second}/my-number", {"my_number": racer, "change_date": days_ago(1)}
        )

    with db.unit_of_work(clerk.tenant) as uow:
        service.change_my_number(
            uow,
            ctx,
            service.ChangeMyNumber(atena_number=first, my_number=racer, change_date=days_ago(1)),
        )
        thread = threading.Thread(target=api_change)
        thread.start()
        thread.join(timeout=2)
        assert thread.is_alive()  # waiting on the index entry of the uncommitted row
        uow.commit()
    thread.join(timeout=30)
    r = answer["r"]
    assert r.status_code == 409, r.text
    assert r.json()["type"] == "urn:kikan:problem:duplicate-number"
    assert r.json()["title"] == "他の処理と競合しました。" and racer not in r.text


def test_the_upgrade_stops_on_existing_duplicates_without_naming_them(tmp_path: Any) -> None:
    """A register that already holds a duplicate cannot take the unique index: the upgrade says
    how many there are (never which numbers) and leaves the database at the previous revision."""
    from sqlalchemy import create_engine, text

    from kikan.platform.migrate import current_revision, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, revision="0012_linkage_push")
    columns = (
        "tenant_code, atena_number, history_no, version, household_number, status, resident_kind,"
        " full_name, full_kana, name_key, kana_key, address_key, address_text, birth_sort,"
        " birth_display, sex, zokugara, juminhyo_code, mynumber_index"
    )
    engine = create_engine(url)
    with engine.begin() as conn:
        for atena in ("000000000000001", "000000000000002"):
            conn.execute(
                text(
                    f"INSERT INTO residents_current ({columns}) VALUES ('992011', :atena, 1, 1,"
                    " '000000000000001', 'resident', '1', '番号　一', 'バンゴウ　イチ', 'k', 'k',"
                    " 'a', 'a', '1991-03-03', '平成3年3月3日', '1', '世帯主', :code, '')"
                ),
                {"atena": atena, "code": CODE},
            )
    engine.dispose()
    with pytest.raises(RuntimeError) as refused:
        upgrade(url)
    assert "住民票コードの重複が 1 件" in str(refused.value) and CODE not in str(refused.value)
    assert current_revision(url) == "0012_linkage_push"
