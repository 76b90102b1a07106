"""Certificates end to end: pages/s on one core, HTTP latency at 1 and 8 clients, font cost.

    .venv/bin/python -m benchmarks.certificate_bench --n 100 --workers 2

A scratch PostgreSQL database is created (and dropped afterwards) with one municipality, a
code-drawn 公印 and `--households` households of 4 (through `service.move_in`, not measured).
The application role `kikan_app` (RLS in force) is used for everything measured. Cases:

- ``empty_page`` (baseline): ``FPDF(); add_page(); output()`` in this process — any PDF's cost;
- ``render_setai_4``: the forms engine alone on the plan of a 4-member 世帯連記式 certificate
  (sequential, one core), per page;
- ``font_per_document``: attach the cached IPAmj明朝, one line, output — the font subsetting and
  embedding every document pays (the floor under a certificate);
- ``issue_in_process``: `issue_certificate` (snapshot read, 発行番号, render, register, audit,
  commit) sequentially in this process, per document;
- ``http_1_client`` / ``http_8_clients``: ``POST /api/v1/residents/{atena}/certificates`` against
  ``kikan serve --workers W`` (uvicorn, separate processes) from 1 and from 8 concurrent clients
  (threads, one HTTP connection each), random households; p50/p95 of the full request.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, timedelta

import httpx
import psycopg
from fpdf import FPDF
from sqlalchemy.engine import make_url

from benchmarks.runner import Benchmark, Case
from kikan.forms import fonts as forms_fonts
from kikan.forms import render
from kikan.forms.official_seal import draw_official_seal
from kikan.models import upgrade
from kikan.platform import audit, auth, tenancy
from kikan.platform.context import Context
from kikan.platform.uow import Database, Scope
from kikan.residents import service
from kikan.residents.certificates import CertificateRequest, Requester, issue_certificate
from kikan.residents.certificates import document as cert_doc
from kikan.residents.certificates.service import _plan
from kikan.residents.domain import Address, OtherAddress, PersonInput

TENANT = "992011"
ACTOR = audit.Actor(kind="system", id="bench")
PASSWORD = "Bench-Password-2026"
LINE = "𠮷田　太郎　髙橋　山﨑　渡邉\U000e010f　住民票の写し"


def seed(db: Database, households: int) -> list[str]:
    """Households of 4 (世帯主, 妻, 子, 子) with rare characters; returns the heads' 宛名番号."""
    ctx = Context(actor=ACTOR)
    heads: list[str] = []
    names = [("𠮷田", "ヨシダ"), ("髙橋", "タカハシ"), ("山﨑", "ヤマザキ"), ("渡邉", "ワタナベ")]
    day = date.today() - timedelta(days=30)
    with db.unit_of_work(TENANT) as uow:
        for i in range(households):
            fam, kana = names[i % len(names)]
            members = [
                ("太郎", "タロウ", "1", "昭和50年1月1日", "世帯主"),
                ("花子", "ハナコ", "2", "昭和52年2月2日", "妻"),
                ("一郎", "イチロウ", "1", "平成20年3月3日", "子"),
                ("桜", "サクラ", "2", "平成23年4月4日", "子"),
            ]
            movers = [
                service.Mover(
                    PersonInput(
                        family_name=fam, given_name=g, family_name_kana=kana, given_name_kana=gk,
                        sex=sex, birth_date=birth, zokugara=z,  # type: ignore[arg-type]
                    )
                )
                for g, gk, sex, birth, z in members
            ]  # fmt: skip
            command = service.MoveIn(
                movers=movers,
                address=Address(prefecture="架空県", city="日和市", town="本町一丁目",
                                banchi=f"{i + 1}番地", katagaki="日和ハイツ101号室"),
                prior_address=OtherAddress(address=Address(prefecture="東京都", city="千代田区",
                                                           town="千代田", banchi="1番1号")),
                move_date=day,
                notified_date=day,
            )  # fmt: skip
            result = service.move_in(uow, ctx, command)
            heads.append(result.atena_numbers[0])
        uow.commit()
    return heads


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_case(
    name: str, base: str, token: str, heads: list[str], clients: int, per_client: int
) -> Case:
    samples: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []

    def worker(out: list[float], seed_value: int) -> None:
        rng = random.Random(seed_value)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                          timeout=60) as client:  # fmt: skip
            for _ in range(per_client):
                atena = rng.choice(heads)
                body = {"kind": "juminhyo", "requester": {"kind": "self", "atena_number": atena}}
                t = time.perf_counter()
                r = client.post(f"/api/v1/residents/{atena}/certificates", json=body)
                out.append(time.perf_counter() - t)
                if r.status_code != 200 or not r.content.startswith(b"%PDF"):
                    errors.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=worker, args=(samples[i], i)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    case = Case(name, time.perf_counter() - t0, clients * per_client, "documents")
    case.samples = [s for lst in samples for s in lst]
    if errors:
        raise RuntimeError(f"{name}: {len(errors)} failed requests, first: {errors[0]}")
    return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100, help="documents per case")
    parser.add_argument("--households", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "KIKAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    n = args.n
    name = f"kikan_bench_{uuid.uuid4().hex[:8]}"
    admin_dsn = make_url(args.postgres_url).set(drivername="postgresql")
    admin = admin_dsn.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    owner = make_url(args.postgres_url).set(database=name)
    owner_url = owner.render_as_string(hide_password=False)
    app_url = owner.set(username="kikan_app", password=None).render_as_string(hide_password=False)
    bench = Benchmark(
        "certificates",
        dataset={"households": args.households, "members": 4, "documents_per_case": n,
                 "uvicorn_workers": args.workers},
        database="postgresql (kikan_app, RLS on)",
    )  # fmt: skip
    server: subprocess.Popen[bytes] | None = None
    try:
        upgrade(owner_url, app_role="kikan_app")
        owner_db = Database(owner_url)
        with owner_db.unit_of_work(Scope.host()) as uow:
            tenancy.create_tenant(
                uow, ACTOR, code=TENANT, name="日和市", prefecture="架空県", mayor_name="髙橋 一郎",
                seal_png=draw_official_seal("日和市長之印"),
            )  # fmt: skip
            uow.commit()
        owner_db.dispose()
        db = Database(app_url, pool_size=10)
        with db.unit_of_work(TENANT) as uow:
            auth.create_staff(uow, ACTOR, login_id="bench", display_name="計測 職員",
                              roles=["counter"], password=PASSWORD)  # fmt: skip
            uow.commit()
        heads = seed(db, args.households)
        ctx = Context(actor=ACTOR)
        request = CertificateRequest(
            kind="juminhyo", atena_number=heads[0],
            requester=Requester(kind="self", atena_number=heads[0]),
        )  # fmt: skip
        with db.unit_of_work(TENANT, snapshot=True) as uow:
            plan, _warnings = _plan(uow, ctx, request)
        document = cert_doc.build(plan, f"{TENANT}-2026-0000001")
        shared = forms_fonts.shared_font()
        render("0010001", document)  # warm caches

        with bench.case("empty_page", items=n, unit="pages", baseline=True):
            for _ in range(n):
                pdf = FPDF()
                pdf.add_page()
                pdf.output()

        samples: list[float] = []
        pages = 0
        t0 = time.perf_counter()
        for _ in range(n):
            t = time.perf_counter()
            pages += render("0010001", document).pages
            samples.append(time.perf_counter() - t)
        bench.add(Case("render_setai_4", time.perf_counter() - t0, pages, "pages", samples))

        with bench.case("font_per_document", items=n, unit="documents"):
            for _ in range(n):
                pdf = FPDF()
                forms_fonts.attach_font(pdf, shared)
                pdf.set_text_shaping(True)
                pdf.add_page()
                pdf.set_font(forms_fonts.FONT_FAMILY, size=12)
                pdf.cell(text=LINE)
                pdf.output()

        rng = random.Random(7)
        samples = []
        t0 = time.perf_counter()
        for _ in range(n):
            atena = rng.choice(heads)
            req = CertificateRequest(
                kind="juminhyo",
                atena_number=atena,
                requester=Requester(kind="self", atena_number=atena),
            )
            t = time.perf_counter()
            issue_certificate(db, TENANT, ctx, req)
            samples.append(time.perf_counter() - t)
        bench.add(Case("issue_in_process", time.perf_counter() - t0, n, "documents", samples))
        db.dispose()

        port = free_port()
        env = {**os.environ, "KIKAN_DATABASE_URL": app_url, "KIKAN_LOG_LEVEL": "WARNING",
               "KIKAN_VAR_DIR": f"/tmp/{name}"}  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "kikan", "serve", "--port", str(port),
             "--workers", str(args.workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            json={"tenant": TENANT, "login_id": "bench", "password": PASSWORD},
        ).json()["access_token"]
        # warm every worker (font parse, imports) before measuring
        http_case("warmup", base, token, heads, args.workers * 2, 2)
        bench.add(http_case("http_1_client", base, token, heads, 1, n))
        bench.add(http_case("http_8_clients", base, token, heads, 8, max(n // 8, 4)))
        size = len(render("0010001", document).pdf)
        bench.note(f"a 4-member 世帯連記式 certificate with 公印 is {size:,} bytes, 1 page")
        bench.note(
            "render_setai_4 and font_per_document: one process, sequential (one core); "
            "http_*: uvicorn with the given workers on the same machine as the clients and "
            "PostgreSQL; each request = auth, snapshot read, 発行番号, render, register, audit."
        )
        bench.finish()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
