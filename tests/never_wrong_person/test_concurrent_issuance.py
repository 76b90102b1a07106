"""Never the wrong person: concurrent certificate issuance against the real server.

The 2023 convenience-store incidents printed another applicant's 住民票 after a print timeout
released part of a lock, and when two requests less than a second apart overwrote shared state.
This test reproduces that load on the real thing: `kikan serve` with several worker processes on
PostgreSQL (app role, RLS in force), 200 persons, 200 issuance requests fired within about one
second, some of them abandoned by their client after a few milliseconds (the kiosk's timeout) and
retried, and one worker process SIGKILLed mid-run. Every PDF that comes back is read with
pdftotext and must name exactly the person requested; every request ends with its own PDF after
the kiosk's retries; nothing answers 5xx.

A second scenario interleaves 修正 of one person's 氏 and 名 (one transaction changing both) with
issuance for that person: each certificate shows either the old pair or the new pair, never a mix.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from kikan.platform.crypto import KeyRing
from kikan.platform.settings import Settings
from kikan.platform.uow import Database
from tests.conftest import PASSWORD, Backend, bearer, create_staff, create_tenant
from tests.residents.conftest import ADDRESS, PRIOR, days_ago, person

pytestmark = pytest.mark.postgres

PERSONS = 200
WORKERS = 3
FAMILY = "検証"
# Given names are one character of each pool; neither pool occurs in any form text, address or
# the mayor's name, so finding a pool-A character followed by a pool-B character in a PDF's text
# can only be a given name of one of the test persons.
POOL_A = "桜梅椿菊蘭萩藤桐楓柊"
POOL_B = "翔陽蓮湊颯凛葵結陸奏澪湧紬碧玲琉瑛暉燈綾"
TOGGLE_A = ("鷹野", "澄香")
TOGGLE_B = ("鶴見", "澪華")


def given_names() -> list[str]:
    return [a + b for b in POOL_B for a in POOL_A][:PERSONS]


def pdf_text(pdf: bytes, tmp: Path) -> str:
    path = tmp / f"{sha256(pdf).hexdigest()}.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return "".join(out.stdout.decode("utf-8").split())


def names_in(text: str) -> set[str]:
    return {
        text[i : i + 2] for i in range(len(text) - 1) if text[i] in POOL_A and text[i + 1] in POOL_B
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    tenant: str
    headers: dict[str, str]
    persons: dict[str, str]  # 宛名番号 -> given name
    toggled: str  # 宛名番号 of the person whose name is corrected back and forth
    log: Path

    def workers(self) -> list[psutil.Process]:
        children = psutil.Process(self.proc.pid).children(recursive=True)
        return [
            c
            for c in children
            if "resource_tracker" not in " ".join(c.cmdline()) and c.is_running()
        ]


@pytest.fixture(scope="module")
def server(postgres_backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    assert shutil.which("pdftotext"), "poppler-utils is installed by scripts/bootstrap.sh"
    var = tmp_path_factory.mktemp("server")
    keyfile = var / "mynumber.keys"
    KeyRing.generate_key_file(keyfile, "k1")
    db = Database(postgres_backend.app_url)
    tenant = create_tenant(db, "日和市")
    create_staff(db, tenant, "madoguchi", ["counter", "approver"])

    # Seed through the API in-process (fast), then serve the same database from real workers.
    from kikan.app import create_app

    settings = Settings(var_dir=var, mynumber_key_file=keyfile)
    persons: dict[str, str] = {}
    with TestClient(create_app(settings, db), base_url="https://testserver") as c:
        h = bearer(c, tenant, "madoguchi")
        for given in [*given_names(), TOGGLE_A[1]]:
            family = TOGGLE_A[0] if given == TOGGLE_A[1] else FAMILY
            r = c.post(
                "/api/v1/residents/move-in",
                headers=h,
                json={
                    "movers": [
                        {
                            "person": person(
                                family,
                                given,
                                "ケンショウ",
                                "テスト",
                                "1",
                                "平成15年1月7日",
                                "世帯主",
                            )
                        }
                    ],
                    "address": ADDRESS,
                    "prior_address": PRIOR,
                    "move_date": days_ago(3),
                    "notified_date": days_ago(1),
                },
            )
            assert r.status_code == 201, r.text
            persons[r.json()["atena_numbers"][0]] = given
    db.dispose()
    toggled = next(a for a, g in persons.items() if g == TOGGLE_A[1])
    del persons[toggled]

    port = free_port()
    log = var / "server.log"
    env = {
        **os.environ,
        "KIKAN_DATABASE_URL": postgres_backend.app_url,
        "KIKAN_VAR_DIR": str(var),
        "KIKAN_MYNUMBER_KEY_FILE": str(keyfile),
        "KIKAN_LOG_LEVEL": "WARNING",
    }
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kikan",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.3)
    r = httpx.post(
        f"{base}/api/v1/auth/token",
        json={"tenant": tenant, "login_id": "madoguchi", "password": PASSWORD},
    )
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    try:
        yield Server(base, proc, tenant, headers, persons, toggled, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def certificate_body(atena: str) -> dict[str, Any]:
    return {"kind": "juminhyo", "requester": {"kind": "self", "atena_number": atena}}


@dataclass
class Outcome:
    atena: str
    attempts: list[str] = field(default_factory=list)  # what happened to each attempt
    pdf: bytes | None = None
    issue_number: str = ""
    statuses: list[int] = field(default_factory=list)


def issue(srv: Server, atena: str, *, first_timeout: float | None) -> Outcome:
    """One kiosk: request, and on a timeout or a dropped connection try again (at most 4 times)."""
    outcome = Outcome(atena)
    timeouts = [first_timeout or 120.0, 120.0, 120.0, 120.0]
    for timeout in timeouts:
        try:
            r = httpx.post(
                f"{srv.base}/api/v1/residents/{atena}/certificates",
                json=certificate_body(atena),
                headers=srv.headers,
                timeout=timeout,
            )
        except httpx.TimeoutException:
            outcome.attempts.append("timeout")
            continue
        except httpx.TransportError as exc:
            outcome.attempts.append(f"transport:{type(exc).__name__}")
            time.sleep(0.2)
            continue
        outcome.statuses.append(r.status_code)
        if r.status_code == 200:
            outcome.attempts.append("pdf")
            outcome.pdf = r.content
            outcome.issue_number = r.headers["Kikan-Issue-Number"]
            return outcome
        outcome.attempts.append(f"http:{r.status_code}")
        if r.status_code < 500:
            return outcome
    return outcome


def test_200_concurrent_requests_each_get_their_own_person(server: Server, tmp_path: Path) -> None:
    atenas = list(server.persons)
    assert len(atenas) == PERSONS
    outcomes: list[Outcome] = []
    killed: list[int] = []

    def kill_one_worker() -> None:
        time.sleep(0.5)  # mid-run: about half of the requests are in flight
        victims = server.workers()
        assert len(victims) >= WORKERS, [v.cmdline() for v in victims]
        victims[0].send_signal(signal.SIGKILL)
        killed.append(victims[0].pid)

    killer = threading.Thread(target=kill_one_worker)
    with ThreadPoolExecutor(max_workers=PERSONS) as pool:
        futures = []
        killer.start()
        for i, atena in enumerate(atenas):
            # Every 8th kiosk gives up after 30 ms (the print timeout of the incidents) and retries.
            futures.append(
                pool.submit(issue, server, atena, first_timeout=0.03 if i % 8 == 0 else None)
            )
            time.sleep(0.005)  # 200 requests within about one second
        outcomes = [f.result() for f in futures]
    killer.join()
    assert killed, "a worker process was killed mid-run"

    server_errors = [(o.atena, o.attempts) for o in outcomes if any(s >= 500 for s in o.statuses)]
    assert server_errors == [], server.log.read_text(errors="replace")[-4000:]
    mismatches = []
    for o in outcomes:
        assert o.pdf is not None, f"{o.atena} never got a certificate: {o.attempts}"
        found = names_in(pdf_text(o.pdf, tmp_path))
        if found != {server.persons[o.atena]}:
            mismatches.append((o.atena, server.persons[o.atena], found))
    assert mismatches == []
    numbers = [o.issue_number for o in outcomes]
    assert len(set(numbers)) == len(numbers), "発行番号 are unique"
    injected = sum(
        1
        for o in outcomes
        if "timeout" in o.attempts or any(a.startswith("transport") for a in o.attempts)
    )
    assert injected >= PERSONS // 8 - 2, "the injected timeouts really happened"

    # The issuance register binds each delivered PDF to its person: every number verifies as
    # genuine with the SHA-256 of the bytes this kiosk received.
    for o in outcomes[::10]:
        assert o.pdf is not None
        r = httpx.get(
            f"{server.base}/api/v1/certificates/{o.issue_number}/verify",
            params={"sha256": sha256(o.pdf).hexdigest()},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        assert r.json()["genuine"] is True and r.json()["sha256_matches"] is True
        history = httpx.get(
            f"{server.base}/api/v1/residents/{o.atena}/certificates",
            headers=server.headers,
            timeout=30,
        )
        assert history.status_code == 200, history.text
        assert o.issue_number in {h["issue_number"] for h in history.json()}


def test_a_change_interleaved_with_issuance_gives_old_or_new_never_a_mix(
    server: Server, tmp_path: Path
) -> None:
    atena = server.toggled
    stop = threading.Event()
    corrections: list[int] = []

    def toggle() -> None:
        state = TOGGLE_B
        while not stop.is_set():
            r = httpx.post(
                f"{server.base}/api/v1/residents/{atena}/corrections",
                json={"changes": {"family_name": state[0], "given_name": state[1]}},
                headers=server.headers,
                timeout=60,
            )
            assert r.status_code == 200, r.text
            corrections.append(r.status_code)
            state = TOGGLE_A if state == TOGGLE_B else TOGGLE_B

    toggler = threading.Thread(target=toggle)
    toggler.start()
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(lambda _: issue(server, atena, first_timeout=None), range(40)))
    finally:
        stop.set()
        toggler.join()
    assert len(corrections) >= 3, "the name really changed during issuance"
    seen = set()
    for o in results:
        assert o.pdf is not None, o.attempts
        text = pdf_text(o.pdf, tmp_path)
        pairs = {p for p in (TOGGLE_A, TOGGLE_B) if p[0] in text and p[1] in text}
        mixed = (TOGGLE_A[0] in text and TOGGLE_B[1] in text) or (
            TOGGLE_B[0] in text and TOGGLE_A[1] in text
        )
        assert len(pairs) == 1 and not mixed, text[:400]
        seen |= pairs
    assert seen, "certificates were issued while the name changed"
