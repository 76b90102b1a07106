"""印鑑登録: cost of applying the linkage feed and of issuing a 印鑑登録証明書.

    .venv/bin/python -m benchmarks.seal_bench --persons 20000 --certificates 100

Embedded SQLite in a scratch directory. Cases:
- `plain_insert` (baseline for the replica): one executemany INSERT of the same person rows
  (as JSON) into an unindexed scratch table;
- `apply_full`: the sync's 全件 step — `service.apply_full` in pages of 500, one transaction per
  page with its audit record, replica upsert and the reaction check for each person;
- `apply_changes_strike`: 差分 events that strike registered persons (転出), one per event;
- `engine_render` (baseline for certificates): the forms engine rendering the same document;
- `issue_certificate`: the whole use case — locked registration row, 発行番号, render with
  the 印影 as an image field, issuance register and 印刷ログ, commit.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

from benchmarks.runner import Benchmark, Case
from benchmarks.seal_data import png, record
from kikan.forms import render
from kikan.models import upgrade
from kikan.platform import audit, auth, tenancy
from kikan.platform.context import Context
from kikan.platform.uow import Database, Scope
from kikan.seal import certificate, domain, service

TENANT = "992011"
ACTOR = audit.Actor(kind="staff", id="madoguchi", terminal="PC-01")


def atena(i: int) -> str:
    return f"{i:015d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--registrations", type=int, default=500)
    parser.add_argument("--certificates", type=int, default=100)
    args = parser.parse_args()
    n, regs, certs = args.persons, min(args.registrations, args.persons), args.certificates
    bench = Benchmark(
        "seal",
        dataset={"persons": n, "registrations": regs, "certificates": certs},
        database="sqlite",
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        db = Database(url)
        with db.unit_of_work(Scope.host()) as uow:
            tenancy.create_tenant(uow, ACTOR, code=TENANT, name="日和市", mayor_name="日和 一郎")
            uow.commit()
        with db.unit_of_work(TENANT) as uow:
            auth.create_staff(
                uow, ACTOR, login_id="madoguchi", display_name="窓口", roles=["counter"],
                password="Bench-Password-2026",
            )  # fmt: skip
            uow.commit()
        rows = [record(atena(i), given=f"太郎{i % 10}") for i in range(1, n + 1)]

        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_plain (atena varchar(15), record text)"))
        with (
            bench.case("plain_insert", items=n, unit="persons", baseline=True),
            db.engine.begin() as conn,
        ):
            conn.execute(
                text("INSERT INTO bench_plain VALUES (:a, :r)"),
                [{"a": r["atena_number"], "r": json.dumps(r, ensure_ascii=False)} for r in rows],
            )
        with bench.case("apply_full", items=n, unit="persons"):
            for start in range(0, n, 500):
                with db.unit_of_work(TENANT) as uow:
                    applied = service.apply_full(uow, rows[start : start + 500])
                    service.audit_sync(uow, applied, kind="全件")
                    uow.commit()

        image = png(300, "太郎")
        cards = []
        with db.unit_of_work(TENANT) as uow:
            for i in range(1, regs + 1):
                r = service.register(
                    uow, Context(actor=ACTOR), service.commands.Register(
                        atena_number=atena(i), seal_text="青木", image=image,
                        method=domain.Method.IMMEDIATE, identity_document="運転免許証",
                    ),
                )  # fmt: skip
                cards.append(r.row.card_number)
            uow.commit()

        struck = max(1, regs // 2)
        with bench.case("apply_changes_strike", items=struck, unit="events"):
            for i in range(1, struck + 1):
                with db.unit_of_work(TENANT) as uow:
                    service.apply_change(
                        uow, seq=i, topic="residents.changed",
                        payload={"atena_numbers": [atena(i)], "support_measure": []},
                        records=[record(atena(i), given=f"太郎{i % 10}", status="20")],
                    )  # fmt: skip
                    uow.commit()

        live = [c for c in cards[struck:] if c][: max(1, certs)]
        doc = certificate.document(
            person=rows[0], impression=image, registration_number=1, birth_display="昭和55年4月1日",
            address="架空県日和市松町一丁目1番地", issue_number=f"{TENANT}-2026-0000001",
            issue_date=date(2026, 11, 24), certifier_title="架空県日和市長",
            certifier_name="日和 一郎", official_seal_png=None,
        )  # fmt: skip
        render(certificate.FORM_ID, doc)  # the font parse is paid once per process
        with bench.case("engine_render", items=certs, unit="certificates", baseline=False):
            for _ in range(certs):
                render(certificate.FORM_ID, doc)
        samples = []
        t0 = time.perf_counter()
        for i in range(certs):
            s = time.perf_counter()
            with db.unit_of_work(TENANT) as uow:
                service.issue_certificate(
                    uow, Context(actor=ACTOR), service.commands.IssueCertificate(
                        card_number=str(live[i % len(live)]), requester_kind="本人",
                        requester_name="青木 太郎", purpose="",
                    ),
                )  # fmt: skip
                uow.commit()
            samples.append(time.perf_counter() - s)
        bench.add(
            Case("issue_certificate", time.perf_counter() - t0, certs, "certificates", samples)
        )
        engine = bench.cases["engine_render"].rate
        issued = bench.cases["issue_certificate"].rate
        bench.note(
            f"issue_certificate / engine_render throughput = {issued / engine:.3f} "
            "(the certificate-side baseline; the table's ratio column is against plain_insert)"
        )
        bench.note("one process, sequential, embedded SQLite on the same disk: one core.")
        db.dispose()
    bench.finish()


if __name__ == "__main__":
    main()
