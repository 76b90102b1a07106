"""The published contract documents every problem an operation answers, as problem+json."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kikan.app import create_app
from kikan.platform.errors import PROBLEM_JSON
from kikan.platform.settings import Settings


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return create_app(Settings(var_dir=tmp_path_factory.mktemp("var"))).openapi()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, m, op) for path, ops in spec["paths"].items() for m, op in ops.items()]


def test_no_operation_documents_fastapis_own_validation_error(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in str(spec)
    assert "Problem" in spec["components"]["schemas"]


def test_every_error_response_is_a_problem(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)


def test_statuses_follow_from_what_the_operation_takes(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        documented = set(op["responses"])
        assert {"500", "503"} <= documented, (method, path)
        params = op.get("parameters", [])
        if any(p["in"] == "header" and p["name"] == "authorization" for p in params):
            assert {"401", "403"} <= documented, (method, path)
        if "{" in path:
            assert "404" in documented, (method, path)
        if "requestBody" in op:
            assert {"400", "404", "413", "422"} <= documented, (method, path)
        if method in {"post", "put", "patch", "delete"}:
            assert "409" in documented, (method, path)


def test_a_real_validation_error_matches_the_documented_problem(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    documented = spec["paths"]["/api/v1/auth/token"]["post"]["responses"]["422"]
    assert PROBLEM_JSON in documented["content"]
    required = set(spec["components"]["schemas"]["Problem"]["required"])
    r = client.post("/api/v1/auth/token", json={"login_id": 1})
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM_JSON
    assert required <= set(r.json())
