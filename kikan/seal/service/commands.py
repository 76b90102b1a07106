"""What each 印鑑登録 use case is asked to do: one immutable object per call (ADR 0013).

Every use case is `fn(uow, ctx, command)`: the unit of work owns the transaction, the
`kikan.platform.context.Context` says who acts and when (the 処理日 is `ctx.today`), and the
command carries the request. The API, tests and benchmarks build the same objects, so a use case
has one signature whoever calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kikan.seal.domain import Method


@dataclass(frozen=True)
class Register:
    """印鑑登録の申請 (即日登録 or 照会書発行)."""

    atena_number: str
    seal_text: str
    image: bytes
    method: Method
    identity_document: str = ""


@dataclass(frozen=True)
class Answer:
    """回答書の受理."""

    registration_number: int
    inquiry_code: str


@dataclass(frozen=True)
class RegistrationRef:
    """One registration by its 登録番号: 照会, 亡失届, 登録事項変更."""

    registration_number: int


@dataclass(frozen=True)
class CardRef:
    """A presented 印鑑登録証."""

    card_number: str


@dataclass(frozen=True)
class PersonRef:
    """The registrations of one person (宛名番号)."""

    atena_number: str


@dataclass(frozen=True)
class Abolish:
    """廃止届, with the returned card when there is one."""

    registration_number: int
    card_number: str | None = None


@dataclass(frozen=True)
class ReviewRef:
    """One 確認事項 to close."""

    review_id: int


@dataclass(frozen=True)
class OpenReviews:
    """The open 確認事項 (no parameters: the query is the whole request)."""


@dataclass(frozen=True)
class IssueCertificate:
    """印鑑登録証明書の交付 against a presented card."""

    card_number: str
    requester_kind: str
    requester_name: str = ""
    purpose: str = ""
