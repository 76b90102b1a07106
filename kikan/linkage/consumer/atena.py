"""The 宛名管理 query interface as other business modules use it: over HTTP, with the kit's
client (its token, retries and backoff), exactly as another vendor's system would call it.

    with LinkageClient(url, client_id, secret) as api:
        person = AtenaQuery(api).who("000000000000019", as_of=date(2026, 1, 1))
        found = AtenaQuery(api).search({"name": "高橋　一郎", "birth_date": "昭和45年4月1日"})
        numbered = AtenaQuery(api).number({...person items..., "gyomu_id": "010"})

The client needs the scopes `atena.query` (and `support_measure` to see persons under 支援措置)
and, to number, `atena.fuban.<業務コード>`. The paths are the published API of 宛名管理
(docs/atena.md); this kit imports no module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kikan.linkage.consumer.client import LinkageClient, LinkageError

BASE = "/api/v1/atena"


@dataclass(frozen=True)
class AtenaPerson:
    """One person as 宛名管理 answers (`kind` 1 住民 / 2 住登外者). `support_measure`: 支援措置
    protects the person — the caller must keep it from leaving (no address on mail to others,
    no disclosure)."""

    atena_number: str
    kind: str
    status: str
    name: str
    kana: str
    birth_date: str
    sex: str
    address: str
    support_measure: bool
    representative: bool
    nayose_target: str
    togo_number: str
    members: tuple[str, ...]
    valid_from: date | None = None

    @property
    def person_key(self) -> str:
        """The 宛名番号 that stands for this person across 名寄せ (the 代表宛名)."""
        return self.nayose_target or self.atena_number


@dataclass(frozen=True)
class AtenaCandidate:
    atena_number: str
    kind: str
    score: int
    verdict: str
    reason: str
    name: str
    birth_date: str
    address: str
    support_measure: bool


@dataclass(frozen=True)
class Numbered:
    """The 付番 answer: `result` numbered / registered / chosen / candidates."""

    result: str
    atena_number: str
    search_id: str
    candidates: tuple[AtenaCandidate, ...] = field(default=())


class AtenaInputRejected(LinkageError):
    """400 from 宛名管理: the spec's `errors[{code, message}]` (E0001–E0004)."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        text = " ".join(e.get("message", "") for e in errors)
        super().__init__(f"宛名管理が入力を受け付けませんでした: {text}", 400, "invalid-input")


def _person(body: Mapping[str, Any]) -> AtenaPerson:
    valid = body.get("valid_from")
    return AtenaPerson(
        atena_number=str(body["atena_number"]),
        kind=str(body["kind"]),
        status=str(body["status"]),
        name=str(body["name"]),
        kana=str(body["kana"]),
        birth_date=str(body["birth_date"]),
        sex=str(body["sex"]),
        address=str(body["address"]),
        support_measure=bool(body["support_measure"]),
        representative=bool(body["representative"]),
        nayose_target=str(body["nayose_target"]),
        togo_number=str(body["togo_number"]),
        members=tuple(body.get("members") or ()),
        valid_from=date.fromisoformat(valid) if valid else None,
    )


def _candidate(body: Mapping[str, Any]) -> AtenaCandidate:
    return AtenaCandidate(
        atena_number=str(body["atena_number"]),
        kind=str(body["kind"]),
        score=int(body["score"]),
        verdict=str(body["verdict"]),
        reason=str(body["reason"]),
        name=str(body["name"]),
        birth_date=str(body["birth_date"]),
        address=str(body["address"]),
        support_measure=bool(body["support_measure"]),
    )


class AtenaQuery:
    """Calls of 宛名管理's published interface through one `LinkageClient` (inside `with`)."""

    def __init__(self, api: LinkageClient) -> None:
        self.api = api

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self.api.call(method, f"{BASE}{path}", **kwargs)
        except LinkageError as exc:
            if exc.status == 400 and isinstance(exc.body, dict) and exc.body.get("errors"):
                raise AtenaInputRejected(list(exc.body["errors"])) from None
            raise

    def who(self, atena_number: str, *, as_of: date | None = None) -> AtenaPerson:
        """ "Who is 宛名番号 X (resident or not), as of date D" (404 → LinkageError 404)."""
        params = {"as_of": as_of.isoformat()} if as_of else None
        return _person(self._call("GET", f"/client/persons/{atena_number}", params=params))

    def search(self, person: Mapping[str, str]) -> list[AtenaCandidate]:
        """Persons who might be the one described (氏名, 読み, 生年月日, 性別, 住所 items)."""
        body = self._call("POST", "/client/search", json={"person": dict(person)})
        return [_candidate(c) for c in body]

    def number(
        self,
        person: Mapping[str, str],
        *,
        shori_kubun: str = "0",
        atena_number: str = "",
        search_id: str = "",
    ) -> Numbered:
        """付番 (処理区分 0 新規, 1 既存番号で登録, 2 候補から選択)."""
        body = self._call(
            "POST",
            "/jutogaishaatenabangofuban",
            json={
                "shori_kubun": shori_kubun,
                "atena_number": atena_number,
                "search_id": search_id,
                "person": dict(person),
            },
        )
        return Numbered(
            result=str(body["result"]),
            atena_number=str(body.get("atena_number") or ""),
            search_id=str(body.get("search_id") or ""),
            candidates=tuple(_candidate(c) for c in body.get("candidates") or ()),
        )
