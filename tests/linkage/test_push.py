"""PUSH to NATS JetStream (the real server): at least once, de-duplicated, never skipping,
支援措置-filtered, and running inside the server when configured."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kikan.linkage import push
from kikan.linkage.push import PushConfig
from kikan.linkage.store import LinkagePushPositionRow
from kikan.platform.settings import Settings
from kikan.platform.store import AuditRecordRow, OutboxEventRow
from kikan.platform.uow import Database
from tests.conftest import Backend
from tests.linkage.conftest import Town, make_town
from tests.linkage.test_linkage import single_move_in
from tests.platform.test_cli import run
from tests.residents.conftest import TODAY, family_move_in


async def _stream_messages(config: PushConfig) -> list[dict[str, Any]]:
    nc = await nats.connect(config.url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(config.stream)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(config.stream, seq)
            found.append(
                {
                    "subject": msg.subject,
                    "id": (msg.headers or {}).get("Nats-Msg-Id"),
                    "body": json.loads(msg.data or b"{}"),
                    "raw": (msg.data or b"").decode(),
                }
            )
        return found
    finally:
        await nc.close()


def stream_messages(config: PushConfig) -> list[dict[str, Any]]:
    return asyncio.run(_stream_messages(config))


def relay(db: Database, config: PushConfig, tenant: str) -> int:
    async def go() -> int:
        nc, js = await push.connect(config)
        try:
            return await push.relay_once(db, js, config, [tenant])
        finally:
            await nc.close()

    return asyncio.run(go())


def published_position(db: Database, tenant: str) -> int:
    with db.unit_of_work(tenant) as uow:
        row = uow.session.get(LinkagePushPositionRow, tenant)
        return row.published_seq if row else 0


def protect(town: Town, atena: str) -> None:
    end = TODAY + timedelta(days=200)
    town.clerk.ok(
        f"/residents/{atena}/support-measures",
        {
            "start_date": (end - timedelta(days=364)).isoformat(),
            "end_date": end.isoformat(),
            "provisional": False,
            "perpetrators": [{"氏名": "加害 太郎", "生年月日": "昭和60年1月1日", "続柄": "元夫"}],
        },
        status=201,
    )


def test_relay_publishes_every_event_once_with_idempotency_keys(
    town: Town, db: Database, push_config: PushConfig
) -> None:
    family = family_move_in(town.clerk)["atena_numbers"]
    wife = family[1]
    protect(town, wife)
    single = single_move_in(town)
    assert relay(db, push_config, town.tenant) == 3
    messages = stream_messages(push_config)
    assert [m["body"]["seq"] for m in messages] == [1, 2, 3]
    assert [m["id"] for m in messages] == [f"{town.tenant}:{n}" for n in (1, 2, 3)]
    assert {m["subject"] for m in messages} == {
        f"{push_config.prefix}.{town.tenant}.residents.changed"
    }
    assert messages[0]["body"]["payload"]["atena_numbers"] == family
    # the 支援措置 event names only her: published without payload (the seq still goes out)
    assert messages[1]["body"]["payload"] is None
    assert all(
        wife not in (m["body"]["payload"] or {}).get("atena_numbers", []) for m in messages[1:]
    )
    assert all(
        wife not in (m["body"]["payload"] or {}).get("support_measure", []) for m in messages
    )
    assert messages[2]["body"]["payload"]["atena_numbers"] == single
    assert published_position(db, town.tenant) == 3
    # nothing new: nothing is published again
    assert relay(db, push_config, town.tenant) == 0
    assert len(stream_messages(push_config)) == 3
    with db.unit_of_work(town.tenant) as uow:
        assert all(r.published_at is not None for r in uow.session.scalars(select(OutboxEventRow)))
        audited = uow.session.scalars(
            select(AuditRecordRow).where(AuditRecordRow.actor == "linkage-push")
        ).all()
        assert len(audited) == 1
        assert set(audited[0].subjects) == set(family) | set(single)


def test_a_crash_before_the_position_moves_republishes_and_dedup_absorbs(
    town: Town, db: Database, push_config: PushConfig
) -> None:
    family_move_in(town.clerk)
    single_move_in(town)

    async def publish_then_crash() -> None:
        nc, js = await push.connect(push_config)
        try:
            messages = push.pending(db, town.tenant, push_config.prefix, 100)
            assert await push.publish_batch(js, push_config, messages) == 2
            # … the process dies here, before `advance` stores the position
        finally:
            await nc.close()

    asyncio.run(publish_then_crash())
    assert published_position(db, town.tenant) == 0
    single_move_in(town)
    assert relay(db, push_config, town.tenant) == 3  # republishes 1–2, publishes 3
    assert [m["body"]["seq"] for m in stream_messages(push_config)] == [1, 2, 3]
    assert published_position(db, town.tenant) == 3


def test_a_failed_publish_never_advances_the_position(
    town: Town, db: Database, push_config: PushConfig
) -> None:
    family_move_in(town.clerk)
    relay(db, push_config, town.tenant)
    single_move_in(town)
    # a relay pointed at a stream that does not take its subjects: no ack, no advance
    wrong = PushConfig(url=push_config.url, prefix="kikannowhere", stream=push_config.stream)

    async def go() -> None:
        nc = await nats.connect(wrong.url)
        try:
            await push.relay_tenant(db, nc.jetstream(), wrong, town.tenant)
        finally:
            await nc.close()

    with pytest.raises(Exception):  # noqa: B017 - nats raises its own error types
        asyncio.run(go())
    assert published_position(db, town.tenant) == 1
    assert relay(db, push_config, town.tenant) == 1
    assert [m["body"]["seq"] for m in stream_messages(push_config)] == [1, 2]


def test_tenants_have_their_own_subjects(
    client: TestClient, db: Database, push_config: PushConfig
) -> None:
    a = make_town(client, db, "甲市")
    b = make_town(client, db, "乙市")
    family_move_in(a.clerk)
    single_move_in(b)
    relay(db, push_config, a.tenant)
    relay(db, push_config, b.tenant)
    by_subject = {m["subject"]: m["body"] for m in stream_messages(push_config)}
    assert by_subject[f"{push_config.prefix}.{a.tenant}.residents.changed"]["tenant"] == a.tenant
    assert by_subject[f"{push_config.prefix}.{b.tenant}.residents.changed"]["tenant"] == b.tenant


def test_the_server_relays_in_the_background_when_configured(
    db: Database, settings: Settings, push_config: PushConfig
) -> None:
    from kikan.app import create_app

    configured = settings.model_copy(
        update={
            "nats_url": push_config.url,
            "nats_subject_prefix": push_config.prefix,
            "nats_stream": push_config.stream,
        }
    )
    app = create_app(configured, db)
    with TestClient(app, base_url="https://testserver") as c:
        town = make_town(c, db, "常駐市")
        family_move_in(town.clerk)
        deadline = time.monotonic() + 15
        while published_position(db, town.tenant) < 1:
            assert time.monotonic() < deadline, "the background relay did not publish"
            time.sleep(0.05)
    subjects = {m["subject"] for m in stream_messages(push_config)}
    assert f"{push_config.prefix}.{town.tenant}.residents.changed" in subjects


def test_cli_push_once(
    town: Town, db: Database, push_config: PushConfig, backend: Backend, tmp_path: Path
) -> None:
    family_move_in(town.clerk)
    env = {
        "KIKAN_VAR_DIR": str(tmp_path),
        "KIKAN_DATABASE_URL": backend.app_url,
        "KIKAN_NATS_URL": push_config.url,
        "KIKAN_NATS_SUBJECT_PREFIX": push_config.prefix,
        "KIKAN_NATS_STREAM": push_config.stream,
    }
    r = run(env, "linkage", "push", "--once")
    assert r.returncode == 0, r.stderr
    assert "送信しました" in r.stdout
    assert published_position(db, town.tenant) == 1
    ours = [m for m in stream_messages(push_config) if m["body"]["tenant"] == town.tenant]
    assert [m["body"]["seq"] for m in ours] == [1]
    down = run({**env, "KIKAN_NATS_URL": "nats://127.0.0.1:1"}, "linkage", "push", "--once")
    assert down.returncode == 3 and "NATS" in down.stderr
