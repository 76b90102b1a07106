"""The server's real access log holds no personal data (issue 14, item 5).

Why: the UI search was a GET form, so `/ui/residents?name=齋藤　久美子&birth_date=…` reached the
access log, and redaction only recognised a My Number written in digits: uvicorn logs URLs
percent-encoded, so a full-width number (`%EF%BC%99…`) went through in clear. The test runs
`kikan serve` as operations do and reads what it writes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from kikan.models import upgrade
from kikan.platform.ids import my_number_check_digit

KIKAN = str(Path(sys.executable).with_name("kikan"))
NUMBER = "95441234567" + str(my_number_check_digit("95441234567"))
WIDE = NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_and_log(tmp: Path, paths: list[str]) -> str:
    url = f"sqlite:///{tmp / 'kikan.db'}"
    upgrade(url)
    env = {
        **os.environ,
        "KIKAN_VAR_DIR": str(tmp),
        "KIKAN_DATABASE_URL": url,
        "KIKAN_COOKIE_SECURE": "false",
        "KIKAN_LOG_LEVEL": "INFO",
    }
    port = _free_port()
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [KIKAN, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                raise RuntimeError("the server did not start")
            for path in paths:
                httpx.get(base + path, timeout=10)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return log.read_text(encoding="utf-8", errors="replace")


def test_the_access_log_drops_query_strings_and_redacts_any_written_number(
    tmp_path: Path,
) -> None:
    name, birth = "齋藤　久美子", "昭和50年4月1日"
    text = _serve_and_log(
        tmp_path,
        [
            f"/ui/residents?name={quote(name)}&birth_date={quote(birth)}",
            f"/api/v1/residents/{quote(WIDE)}",
            f"/api/v1/residents/{NUMBER}/history",
            f"/healthz?my_number={quote(WIDE)}&n={NUMBER}",
        ],
    )
    assert '"GET /ui/residents?… HTTP/1.1" 30' in text, text  # the request is still logged
    assert '"GET /api/v1/residents/[個人番号] HTTP/1.1" 401' in text, text
    assert '"GET /api/v1/residents/[個人番号]/history HTTP/1.1" 401' in text, text
    for secret in (name, quote(name), "齋藤", quote("齋藤"), birth, quote(birth)):
        assert secret not in text
    for secret in (NUMBER, WIDE, quote(WIDE), quote(WIDE[:4])):
        assert secret not in text


def test_redaction_sees_numbers_only_normalisation_reveals() -> None:
    from kikan.platform.crypto import REDACTION, redact_my_numbers

    math_digits = "".join(chr(0x1D7CE + int(d)) for d in NUMBER)  # 𝟎-𝟗, folded by NFKC
    for hidden in (quote(WIDE), quote(NUMBER[:6]) + NUMBER[6:], math_digits, f"番号{WIDE}です"):
        assert REDACTION in redact_my_numbers(hidden), hidden
    assert redact_my_numbers("齋藤　久美子 %E9%BD%8B 123") == "齋藤　久美子 %E9%BD%8B 123"
