"""Server-side render time of each staff page on the demo municipality (target: p95 < 200 ms).

    .venv/bin/python -m benchmarks.web_bench --n 50

The demo (架空県日和市, ≈1,000 residents seeded through the use cases) is created in a scratch
SQLite database; each page is requested N times in process (TestClient, no network) by a
logged-in clerk or auditor, so the figure is what the server adds: session check, audited reads,
template rendering. Baseline: `healthz` (one trivial query, no session, no template), run in the
same process, so the ratio shows what a page costs over the framework itself.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from benchmarks.runner import Benchmark, Case
from kikan.app import create_app
from kikan.models import upgrade
from kikan.modules import demo_seeders
from kikan.platform.crypto import load_keyring
from kikan.platform.demo import DEMO_PASSWORD, DEMO_TENANT, seed_demo
from kikan.platform.settings import Settings
from kikan.platform.uow import Database


def _login(client: TestClient, login_id: str) -> None:
    client.cookies.clear()
    form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/login").text)
    assert form is not None  # the login form's CSRF token (double submit with its cookie)
    r = client.post(
        "/ui/login",
        data={
            "tenant": DEMO_TENANT,
            "login_id": login_id,
            "password": DEMO_PASSWORD,
            "csrf_token": form.group(1),
        },
    )
    assert r.status_code == 200, r.text


def _search(client: TestClient, criteria: dict[str, str], headers: dict[str, str]) -> Any:
    """住民検索 as the browser sends it: a POST form with the CSRF token (never a GET URL)."""
    token = client.cookies.get("kikan_csrf") or ""
    return client.post("/ui/residents", data={**criteria, "csrf_token": token}, headers=headers)


def _measure(
    client: TestClient,
    name: str,
    path: str,
    n: int,
    headers: dict[str, str],
    search: dict[str, str] | None = None,
) -> Case:
    case = Case(name=name, items=n, unit="pages")
    t0 = time.perf_counter()
    for _ in range(n):
        s = time.perf_counter()
        r = _search(client, search, headers) if search else client.get(path, headers=headers)
        case.samples.append(time.perf_counter() - s)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    case.seconds = time.perf_counter() - t0
    return case


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50, help="requests per page")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kikan-web-bench-"))
    url = f"sqlite:///{tmp / 'kikan.db'}"
    upgrade(url)
    settings = Settings(var_dir=tmp, database_url=url, cookie_secure=False)
    db = Database(url)
    seeded = seed_demo(db, demo_seeders(), keyring=load_keyring(settings))
    residents = sum(seeded.extra.values())
    app = create_app(settings, db)
    bench = Benchmark(
        "web",
        dataset={"tenant": DEMO_TENANT, "residents": residents, "requests_per_page": args.n},
        database="sqlite (WAL)",
    )
    with TestClient(app, base_url="http://testserver") as client:
        bench.add(_measure(client, "healthz", "/healthz", args.n, {}), baseline=True)
        _login(client, "shinsa")
        page = _search(client, {"name": "ワタナベ"}, {}).text
        atena = re.findall(r"/ui/residents/(\d{15})\"", page)[0]
        clerk_pages = {
            "home": "/ui/",
            "search_page": "/ui/residents",
            "search_as_you_type": "/ui/residents",  # posts ﾜﾀ as htmx does
            "resident_detail": f"/ui/residents/{atena}",
            "resident_as_of": f"/ui/residents/{atena}?as_of=2025-01-01",
            "entry_move_in": "/ui/residents/entry/move-in",
            "entry_death": f"/ui/residents/entry/death?atena={atena}",
            "function_map": "/ui/it/functions",
            "bpr_report": "/ui/bpr",
        }
        for name, path in clerk_pages.items():
            typing = name == "search_as_you_type"
            hx = {"HX-Request": "true"} if typing else {}
            bench.add(_measure(client, name, path, args.n, hx, {"name": "ﾜﾀ"} if typing else None))
        _login(client, "kansa")
        bench.add(_measure(client, "audit_log", "/ui/audit", args.n, {}))
    worst = max(
        (c for c in bench.cases.values() if c.name != "healthz"),
        key=lambda c: sorted(c.samples)[int(len(c.samples) * 0.95) - 1],
    )
    bench.note(f"slowest page by p95: {worst.name}")
    bench.finish()
    db.dispose()


if __name__ == "__main__":
    main()
