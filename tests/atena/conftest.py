"""Fixtures of 宛名管理: a migrated database, a key ring, contexts and a person to register."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kikan.atena.service import register
from kikan.platform.context import Context
from kikan.platform.crypto import KeyRing
from kikan.platform.ids import my_number_check_digit
from kikan.platform.uow import Database, UnitOfWork
from tests.conftest import TEST_ACTOR, create_tenant


@pytest.fixture
def keyring(tmp_path: Path) -> KeyRing:
    keyfile = tmp_path / "atena.keys"
    KeyRing.generate_key_file(keyfile, "k1")
    return KeyRing.from_config(None, keyfile, None)


@pytest.fixture
def ctx(keyring: KeyRing) -> Context:
    return Context(actor=TEST_ACTOR, keyring=keyring)


@pytest.fixture
def town(db: Database) -> str:
    return create_tenant(db, "宛名市")


def my_number(body: str) -> str:
    """A valid 個人番号 from 11 digits."""
    return body + str(my_number_check_digit(body))


def landowner(**extra: Any) -> dict[str, str]:
    """A non-resident landowner as a tax system would describe them."""
    return {
        "family_name": "髙橋",
        "given_name": "一郎",
        "family_name_kana": "タカハシ",
        "given_name_kana": "イチロウ",
        "sex": "1",
        "birth_date": "昭和45年4月1日",
        "postal_code": "5300001",
        "prefecture": "大阪府",
        "city": "大阪市北区",
        "town": "梅田一丁目",
        "banchi": "１番地の１",
        "gyomu_id": "012",
        **extra,
    }


def fuban(uow: UnitOfWork, ctx: Context, values: dict[str, str], **kw: Any) -> register.FubanResult:
    command = register.Fuban(
        shori_kubun=kw.pop("shori_kubun", "0"), values=values, requester="tester", **kw
    )
    return register.fuban(uow, ctx, command)


@pytest.fixture
def numbered(db: Database, town: str, ctx: Context) -> Iterator[str]:
    """One registered landowner's 宛名番号."""
    with db.unit_of_work(town) as uow:
        result = fuban(uow, ctx, landowner())
        uow.commit()
    assert result.result == "numbered"
    yield result.atena_number
