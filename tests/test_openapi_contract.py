"""The checked-in API contract (docs/api/openapi.json) must match what the code serves.

Other vendors' systems are built against the published file; a change to the API must change the
file in the same commit (`.venv/bin/kikan openapi --out docs/api/openapi.json`), where reviewers
see it.
"""

from __future__ import annotations

import json
from pathlib import Path

from kikan.app import create_app
from kikan.platform.settings import Settings

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "api" / "openapi.json"


def test_openapi_matches_the_checked_in_contract(tmp_path: Path) -> None:
    served = create_app(Settings(var_dir=tmp_path)).openapi()
    published = json.loads(CONTRACT.read_text(encoding="utf-8"))
    assert served["openapi"].startswith("3.1")
    assert json.dumps(served, sort_keys=True, ensure_ascii=False) == json.dumps(
        published, sort_keys=True, ensure_ascii=False
    ), "API changed: run `.venv/bin/kikan openapi --out docs/api/openapi.json` and commit the file"


def test_every_operation_has_a_japanese_summary(tmp_path: Path) -> None:
    served = create_app(Settings(var_dir=tmp_path)).openapi()
    for path, ops in served["paths"].items():
        for method, op in ops.items():
            summary = op.get("summary", "")
            assert any("\u3040" <= ch <= "\u9fff" for ch in summary), (
                f"{method.upper()} {path}: {summary!r}"
            )
