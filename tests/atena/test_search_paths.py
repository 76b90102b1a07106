"""The candidate search narrows by indexed equalities derived from the 名寄せ weights: it must
never miss a state the rules would offer. Property test: for random pairs, every state whose
assessment is not `distinct` is among the rows the conditions select (SQLite in memory, the real
table definition)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, delete, or_, select
from sqlalchemy.orm import Session

from kikan.atena import domain, matching
from kikan.atena.service.search import conditions
from kikan.atena.store import StateRow

_names = st.sampled_from(["高橋　太郎", "髙橋　太郎", "高橋　次郎", "佐藤　花子", ""])
_kanas = st.sampled_from(["タカハシ　タロウ", "タカハシ　ジロウ", "サトウ　ハナコ", ""])
_births = st.sampled_from(
    ["S50-04-01", "S50-04-02", "S50-04-??", "H3-02-29", "AD1975-04-01", "?", ""]
)
_sexes = st.sampled_from(["1", "2", "0", ""])
_addresses = st.sampled_from(
    ["東京都千代田区霞が関一丁目1番1号", "東京都千代田区霞ヶ関1-1-1", "大阪府大阪市北区梅田1-1", ""]
)
facts = st.builds(domain.Facts, name=_names, kana=_kanas, birth=_births, sex=_sexes,
                  address=_addresses)  # fmt: skip


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    StateRow.metadata.create_all(engine, tables=[StateRow.__table__])  # type: ignore[list-item]
    with Session(engine) as s:
        yield s
    engine.dispose()


def _row(f: domain.Facts) -> StateRow:
    return StateRow(
        tenant_code="131016", atena_number="000000000000019", source="2", version=1,
        current=True, operator="t", reason="t", name=f.name, kana=f.kana, birth=f.birth,
        sex=f.sex, address=f.address, name_key=f.name_key, kana_key=f.kana_key,
        birth_day=f.birth_day, items={},
    )  # fmt: skip


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=facts, other=facts)
def test_no_offerable_state_is_missed(session: Session, query: domain.Facts,
                                      other: domain.Facts) -> None:  # fmt: skip
    session.execute(delete(StateRow))
    session.add(_row(other))
    session.flush()
    paths = conditions(query)
    found = session.scalars(select(StateRow).where(or_(*paths))).all() if paths else []
    verdict = matching.assess(
        matching.PersonFacts(query.name, query.kana, query.birth, query.sex, query.address),
        matching.PersonFacts(other.name, other.kana, other.birth, other.sex, other.address),
    ).verdict
    if verdict is not matching.Verdict.DISTINCT:
        assert found, (query, other, verdict)


def test_the_paths_follow_the_weights() -> None:
    q = domain.Facts("高橋　太郎", "タカハシ　タロウ", "S50-04-01", "1", "東京都")
    sql = [str(c.compile(compile_kwargs={"literal_binds": True})) for c in conditions(q)]
    # name with the same or an unknown birth day; 読み with the same birth day; no birth alone
    assert len(sql) == 2
    assert "name_key" in sql[0] and "birth_day IN ('1975-04-01', '')" in sql[0]
    assert "kana_key" in sql[1] and "birth_day = '1975-04-01'" in sql[1]
    unknown = domain.Facts("高橋　太郎", "タカハシ　タロウ", "S50-04-??", "1", "東京都")
    assert [str(c) for c in conditions(unknown)] == ["atena_states.name_key = :name_key_1"]
