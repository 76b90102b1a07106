"""The input model (ADR 0010): bounded ints, the text type and its repertoires, datetimes,
body limits — every out-of-range input is a 4xx problem in Japanese, never a 500 or an echo."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from kikan.moji.items import ItemClass, unsafe_character
from kikan.platform.db import utcnow
from kikan.platform.limits import DEFAULT_LIMIT
from kikan.platform.uow import Database
from tests.conftest import bearer, create_staff, create_tenant

PROBLEM = "application/problem+json"
BIG = str(2**63)  # one past BIGINT
HUGE = str(10**30)
PAST_INTEGER = str(2**31)  # every id column is a PostgreSQL INTEGER: a write with it was a 500


@pytest.fixture
def staff(client: TestClient, db: Database) -> dict[str, str]:
    t = create_tenant(db, "境界市")
    create_staff(db, t, "all", ["counter", "approver", "sysadmin", "auditor"])
    return bearer(client, t, "all")


def _is_japanese_problem(r: Any) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.headers["content-type"] == PROBLEM, r.headers["content-type"]
    body = r.json()
    assert body["status"] == r.status_code
    assert any(ord(c) > 0x3000 for c in body["title"] + body["detail"]), body


PERSON = {
    "family_name": "境界",
    "given_name": "太郎",
    "family_name_kana": "キョウカイ",
    "given_name_kana": "タロウ",
    "sex": "1",
    "birth_date": "平成15年1月7日",
    "zokugara": "世帯主",
}
ADDRESS = {"prefecture": "架空県", "city": "日和市", "town": "松町一丁目", "banchi": "1番地"}


def _move_in(person: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "movers": [{"person": {**PERSON, **(person or {})}}],
        "address": {**ADDRESS, **extra.pop("address", {})},
        "prior_address": {"address": {"prefecture": "東京都", "city": "千代田区"}},
        "move_date": "2026-01-05",
        **extra,
    }


# (method, path, json body or None, query params or None)
OUT_OF_RANGE: list[tuple[str, str, Any, Any]] = [
    ("GET", f"/api/v1/seal/registrations/{BIG}", None, None),
    ("GET", f"/api/v1/seal/registrations/{HUGE}/history", None, None),
    ("POST", f"/api/v1/seal/registrations/{BIG}/lost", None, None),
    ("POST", f"/api/v1/seal/reviews/{BIG}/close", None, None),
    ("POST", f"/api/v1/seal/registrations/{PAST_INTEGER}/lost", {"reason": "紛失"}, None),
    ("POST", f"/api/v1/seal/registrations/{PAST_INTEGER}/abolish", {}, None),
    ("POST", f"/api/v1/seal/reviews/{PAST_INTEGER}/close", {}, None),
    ("POST", f"/api/v1/residents/000000000000001/support-measures/{PAST_INTEGER}/end", {}, None),
    ("GET", "/api/v1/linkage/changes", None, {"after": PAST_INTEGER}),
    ("POST", f"/api/v1/residents/000000000000001/suppressions/{BIG}/end", {}, None),
    ("POST", f"/api/v1/residents/000000000000001/support-measures/{BIG}/extend", None, None),
    ("GET", "/api/v1/audit/records", None, {"before_seq": BIG}),
    ("GET", "/api/v1/audit/records", None, {"since": "0001-01-01T00:00:00+09:00"}),
    ("GET", "/api/v1/audit/records", None, {"until": "9999-12-31T23:59:59-12:00"}),
    ("GET", "/api/v1/linkage/changes", None, {"after": BIG}),
    ("POST", "/api/v1/residents/search", {"name": "田中", "page": 10**20}, None),
    ("POST", "/api/v1/residents/search", {"name": "田中", "page_size": 2**40}, None),
    ("POST", "/api/v1/residents/search", {"name": "\ud800"}, None),
    ("POST", "/api/v1/residents/search", {"kana": "ア\x00"}, None),
    ("POST", "/api/v1/residents/search", {"address": "松町\x00"}, None),
    ("POST", "/api/v1/residents/search", {"name": "田" * 5000}, None),
    ("POST", "/api/v1/residents/search", {"fields": ["x"] * 10_000}, None),
    (
        "POST",
        "/api/v1/residents/birth",
        {"household_number": "1", "person": {**PERSON, "given_name": "名" * 250}},
        None,
    ),
    ("POST", "/api/v1/residents/move-in", _move_in({"given_name": "名" * 5000}), None),
    ("POST", "/api/v1/residents/move-in", _move_in(address={"banchi": "1番地\x00"}), None),
    ("POST", "/api/v1/residents/move-in", _move_in(expected_household_version=2**63), None),
    ("POST", "/api/v1/residents/move-in", _move_in({"family_name": "境\ud800界"}), None),
    ("POST", "/api/v1/residents/move-in", _move_in(move_date="2026-02-30"), None),
    ("GET", "/api/v1/residents/000000000000001/as-of", None, {"known_at": "10000-01-01"}),
    ("GET", "/api/v1/staff/a%00b/unlock", None, None),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "params"),
    OUT_OF_RANGE,
    ids=[f"{m} {p[:40]} {str(b or q)[:30]}" for m, p, b, q in OUT_OF_RANGE],
)
def test_out_of_range_input_is_a_problem_not_a_500(
    client: TestClient,
    staff: dict[str, str],
    method: str,
    path: str,
    body: Any,
    params: Any,
) -> None:
    content = None if body is None else json.dumps(body).encode()
    headers = {**staff, "content-type": "application/json"}
    r = client.request(method, path, content=content, params=params, headers=headers)
    _is_japanese_problem(r)


def test_unauthenticated_login_with_nul_or_surrogate_is_a_problem(client: TestClient) -> None:
    for login_id in ("adm\x00in", "\udfff", "x" * 10_000):
        r = client.post(
            "/api/v1/auth/token",
            content=json.dumps({"tenant": "131016", "login_id": login_id, "password": "p"}),
            headers={"content-type": "application/json"},
        )
        _is_japanese_problem(r)
        assert r.status_code == 422


def test_date_only_and_naive_instants_are_japan_time(
    client: TestClient, staff: dict[str, str]
) -> None:
    """`since=2026-01-01` and a naive `known_at` are read as Japan Standard Time, not a 500."""
    for since in ("2026-01-01", "2026-01-01T09:00:00", "2026-01-01T00:00:00Z"):
        r = client.get("/api/v1/audit/records", params={"since": since}, headers=staff)
        assert r.status_code == 200, r.text
    today = utcnow().date().isoformat()
    r = client.get("/api/v1/audit/records", params={"since": today, "limit": 1000}, headers=staff)
    assert r.status_code == 200
    # the login of the fixture happened today (UTC): midnight JST today is at most 9 h earlier
    assert any(rec["action"] == "login" for rec in r.json())


def test_history_known_at_accepts_date_only(client: TestClient, staff: dict[str, str]) -> None:
    r = client.post("/api/v1/residents/move-in", json=_move_in(), headers=staff)
    assert r.status_code == 201, r.text
    atena = r.json()["atena_numbers"][0]
    for known_at in ("2026-01-01", "2099-01-01T00:00:00", "2099-01-01T00:00:00+09:00"):
        r = client.get(
            f"/api/v1/residents/{atena}/history", params={"known_at": known_at}, headers=staff
        )
        assert r.status_code == 200, r.text
    r = client.get(
        f"/api/v1/residents/{atena}/as-of", params={"known_at": "2099-01-01"}, headers=staff
    )
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- the walker


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _unbounded(
    spec: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]
) -> Iterator[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen = seen | {name}
        yield from _unbounded(spec, _resolve(spec, schema), f"{where}<{name}>", seen)
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(key, [])):
            yield from _unbounded(spec, sub, f"{where}|{i}", seen)
    kind = schema.get("type")
    if kind == "string":
        if not (
            "maxLength" in schema
            or "enum" in schema
            or "const" in schema
            or schema.get("format") in ("date", "date-time")
        ):
            yield where
    elif kind == "integer":
        if ("maximum" not in schema or "minimum" not in schema) and "enum" not in schema:
            yield where
    elif kind == "array":
        if "maxItems" not in schema:
            yield where + "[]"
        yield from _unbounded(spec, schema.get("items", {}), where + "[]", seen)
    elif kind == "object" or "properties" in schema:
        for name, sub in schema.get("properties", {}).items():
            yield from _unbounded(spec, sub, f"{where}.{name}", seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                yield where + "{}"
            if extra:
                yield from _unbounded(spec, extra, where + "{}", seen)
            names = schema.get("propertyNames")
            if names is not None:
                yield from _unbounded(spec, names, where + "{key}", seen)


def test_every_parameter_and_request_field_is_bounded(client: TestClient) -> None:
    """A new endpoint or field with a bare `str`, `int`, list or dict fails here: bound it with a
    type of kikan.platform.types (ADR 0010). The UI's routes (hidden from the published contract)
    are walked too."""
    routes = []
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        original = context.original_route
        if isinstance(original, APIRoute):
            visible = copy.copy(original)
            visible.include_in_schema = True
            routes.append(visible)
    spec = get_openapi(title="all routes", version="0", routes=routes)
    assert any("{atena_number}" in p for p in spec["paths"])
    assert any(p.endswith("/audit") for p in spec["paths"]), "the UI's routes are walked"
    problems: list[str] = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            here = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                problems += _unbounded(
                    spec, param["schema"], f"{here} {param['in']}:{param['name']}", set()
                )
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                problems += _unbounded(
                    spec, content.get("schema", {}), f"{here} body({media})", set()
                )
    assert problems == [], "\n".join(problems)


# ---------------------------------------------------------------- 10: the repertoire per class


@pytest.mark.parametrize(
    "text",
    [
        "山田\u202e太郎",
        "山\u200d田",
        "山\u200b田",
        "\ufeff山田",
        "山田\u2028",
        "a\ufe0f",
        "山\u0000",
    ],
)
def test_format_and_control_characters_are_refused_in_every_class(text: str) -> None:
    for cls in (ItemClass.NAME, ItemClass.ADDRESS, ItemClass.LINE, ItemClass.TEXT):
        assert unsafe_character(text, cls) is not None, (text, cls)


def test_names_keep_mj_ivs_sequences_and_refuse_what_is_outside_the_repertoire() -> None:
    assert unsafe_character("渡邉\U000e010f", ItemClass.NAME) is None  # MJ IVS
    assert unsafe_character("𠮷野", ItemClass.NAME) is None
    assert unsafe_character("齋藤　久美子", ItemClass.NAME) is None
    assert unsafe_character("１丁目２番地３－４", ItemClass.ADDRESS) is None
    bad = unsafe_character("山田😀", ItemClass.NAME)
    assert bad is not None and bad.reason == "outside_repertoire" and bad.codepoint == "U+1F600"
    # フリガナ may be typed in half-width katakana (search keys fold it); names may not
    assert unsafe_character("ｱｵｷ", ItemClass.KANA) is None
    assert unsafe_character("ｱｵｷ", ItemClass.NAME) is not None
    assert unsafe_character("ｱｵｷ\u200d", ItemClass.KANA) is not None
    # free text keeps line breaks, names do not
    assert unsafe_character("一行目\n二行目", ItemClass.TEXT) is None
    assert unsafe_character("一行目\n二行目", ItemClass.NAME) is not None
    # secrets: anything printable
    assert unsafe_character("p\u202eass😀", ItemClass.SECRET) is None


def test_unsafe_characters_in_names_and_addresses_are_refused_by_the_api(
    client: TestClient, staff: dict[str, str]
) -> None:
    for body in (
        _move_in({"given_name": "太\u202e郎"}),
        _move_in({"family_name": "境\u200d界"}),
        _move_in(address={"town": "松町\u2066一丁目"}),
        _move_in({"family_name_kana": "キョウカイ\u200b"}),
    ):
        r = client.post("/api/v1/residents/move-in", json=body, headers=staff)
        _is_japanese_problem(r)
        assert r.status_code == 422
        assert "使用できない書式制御文字" in r.json()["detail"]
    r = client.post(
        "/api/v1/residents/move-in", json=_move_in({"family_name": "渡邉\U000e010f"}), headers=staff
    )
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- 8: body limits


def test_oversized_bodies_are_refused_before_parsing(
    client: TestClient, staff: dict[str, str]
) -> None:
    r = client.post(
        "/api/v1/auth/token",
        content=b'{"login_id": "' + b"x" * (1024 * 1024) + b'", "password": "p"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    _is_japanese_problem(r)
    assert r.json()["type"] == "urn:kikan:problem:payload-too-large"
    assert r.headers["x-content-type-options"] == "nosniff"  # inside the headers middleware
    name = "田" * (DEFAULT_LIMIT // 3 + 10)
    r = client.post("/api/v1/residents/search", json={"name": name}, headers=staff)
    assert r.status_code == 413
    assert name not in r.text


def test_chunked_bodies_without_length_are_cut_off(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"login_id": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'", "password": "p"}'

    r = client.post(
        "/api/v1/auth/token", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413
    _is_japanese_problem(r)


def test_small_bodies_pass(client: TestClient) -> None:
    r = client.post(
        "/api/v1/auth/token", json={"tenant": "131016", "login_id": "a", "password": "p"}
    )
    assert r.status_code != 413


# ---------------------------------------------------------------- 15: one date rule for every item


def test_date_items_take_the_same_forms_and_name_the_item_in_japanese(
    client: TestClient, staff: dict[str, str]
) -> None:
    r = client.post(
        "/api/v1/residents/move-in", json=_move_in(move_date="令和8年1月5日"), headers=staff
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/residents/move-in", json=_move_in(move_date="R08.01.06"), headers=staff
    )
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/residents/move-in", json=_move_in(move_date="きのう"), headers=staff)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail.startswith("異動日: ") and "move_date" not in detail, detail
    assert r.json()["item"] == "異動日"
    assert r.json()["instance"] == "/api/v1/residents/move-in"
    r = client.get(f"/api/v1/residents/{MARK}/history", headers=staff)
    assert r.status_code == 404
    assert r.json()["instance"] == "/api/v1/residents/{atena_number}/history"


def test_a_day_that_never_existed_is_the_same_error_in_every_form(
    client: TestClient, staff: dict[str, str]
) -> None:
    r = client.post("/api/v1/residents/move-in", json=_move_in(), headers=staff)
    assert r.status_code == 201, r.text
    household = r.json()["household_numbers"][0]
    answers = set()
    for birth in ("2024-02-30", "令和6年2月30日", "R06.02.30", "20240230"):
        child = {**PERSON, "given_name": "次郎", "birth_date": birth, "zokugara": "子"}
        r = client.post(
            "/api/v1/residents/birth",
            json={"household_number": household, "person": child},
            headers=staff,
        )
        assert r.status_code == 422, r.text
        body = r.json()
        answers.add((body["code"], body["item"], body["detail"]))
    assert len(answers) == 1, answers
    code, item, detail = answers.pop()
    assert (code, item) == ("nonexistent_date", "生年月日")
    assert "30" not in detail


# ---------------------------------------------------------------- 6: problems never echo input

MARK = "ZZQ9MARK"


def test_problems_name_the_item_never_the_value(client: TestClient, staff: dict[str, str]) -> None:
    long_mark = MARK * 12_500  # 100,000 characters
    new_staff = {"login_id": MARK, "display_name": "標識", "roles": ["counter"]}
    r = client.post("/api/v1/staff", json={**new_staff, "password": "Aa1" * 6}, headers=staff)
    assert r.status_code == 201, r.text
    calls: list[tuple[str, str, Any]] = [
        ("POST", "/api/v1/residents/search", {"fields": ["name", MARK]}),
        ("POST", "/api/v1/residents/search", {"birth_date": MARK}),
        ("POST", "/api/v1/residents/search", {"name": long_mark}),
        ("GET", f"/api/v1/residents/{MARK}", None),
        ("GET", f"/api/v1/residents/{MARK}/history", None),
        (
            "POST",
            "/api/v1/residents/move-within",
            {"household_number": MARK, "address": ADDRESS, "move_date": "2026-01-05"},
        ),
        ("POST", "/api/v1/residents/move-in", _move_in(move_date=MARK)),
        ("POST", "/api/v1/residents/move-in", _move_in({"birth_date": MARK})),
        ("POST", "/api/v1/residents/move-in", _move_in(join_household=MARK)),
        ("POST", f"/api/v1/staff/{MARK}0/unlock", None),
        ("POST", f"/api/v1/staff/{MARK}0/password", {"new_password": "Aa1" * 6}),
        ("POST", "/api/v1/staff", {**new_staff, "password": "Aa1" * 6}),  # 409: the id is taken
        (
            "POST",
            "/api/v1/staff",
            {"login_id": "new1", "display_name": "役", "roles": [MARK], "password": "Aa1" * 6},
        ),
        ("POST", f"/api/v1/linkage/clients/{MARK}/disable", None),
        ("POST", f"/api/v1/certificates/{MARK}/void", {"reason": "誤交付"}),
        ("GET", f"/api/v1/seal/cards/{MARK[:12]}", None),
        (
            "POST",
            "/api/v1/residents/000000000000001/certificates",
            {"kind": MARK, "requester": {"kind": "self"}},
        ),
        ("GET", "/api/v1/audit/records", {"since": MARK}),
    ]
    for method, path, body in calls:
        if method == "GET" and body:
            r = client.get(path, params=body, headers=staff)
        else:
            r = client.request(method, path, json=body, headers=staff)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])
        assert r.headers["content-type"] == PROBLEM, (path, r.headers["content-type"])
        assert MARK not in r.text and MARK[:12] not in r.text, (path, r.text[:300])
        assert "ZZQ9" not in r.text, (path, r.text[:300])


def test_code_and_zokugara_errors_do_not_echo(client: TestClient, staff: dict[str, str]) -> None:
    for body in (
        _move_in({"zokugara": MARK}),
        _move_in({"resident_kind": "2", "foreign": {"nationality": MARK, "article_30_45": "1"}}),
        {**_move_in(), "prior_address": {"country_code": MARK, "foreign_address": "北京市"}},
    ):
        r = client.post("/api/v1/residents/move-in", json=body, headers=staff)
        _is_japanese_problem(r)
        assert MARK not in r.text, r.text


def test_ui_forms_refuse_control_characters_before_any_screen_reads_them(
    client: TestClient, staff: dict[str, str]
) -> None:
    """Every UI form passes `kikan.web.shell.form_data`: NUL in the login form is a 4xx, never
    a database error (PostgreSQL refuses NUL in text)."""
    for login_id in ("adm\x00in", "a\u202eb", "x" * 20_000):
        r = client.post(
            "/ui/login", data={"tenant": "131016", "login_id": login_id, "password": "p"}
        )
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
        assert login_id not in r.text
