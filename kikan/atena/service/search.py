"""Candidate search: who among the persons 宛名管理 knows (residents and 住登外者, by their
current **and** former names and addresses) might be the person described.

Why this shape: the search is one indexed query on `atena_states` (exact search keys of 氏名,
読み仮名 — 異体字 and kana folded by `kikan.moji` — and the exact birth day), then every state found
is weighed by the 名寄せ rules (`kikan.atena.matching`), and each person keeps their best state.
The database only narrows by equality on indexed keys, so the cost does not grow with the
register (benchmarks/atena_search.py measures it against a primary-key read).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select

from kikan.atena import domain, matching
from kikan.atena.service.common import (
    facts_of_state,
    my_number_indexes,
    numbers_with_index,
    protected_numbers,
)
from kikan.atena.store import IdentityRow, StateRow
from kikan.platform.uow import UnitOfWork

#: at most this many states are weighed per search (a very common name on one birthday)
SCAN_LIMIT = 2000
RESULT_LIMIT = 20


@dataclass(frozen=True)
class Candidate:
    """One person who might be the one described, with the state that matched best."""

    atena_number: str
    source: str
    assessment: matching.Assessment
    state: domain.Facts
    current: bool
    protected: bool

    @property
    def score(self) -> int:
        return self.assessment.score


def _person_facts(facts: domain.Facts, index: str | None) -> matching.PersonFacts:
    return matching.PersonFacts(
        name=facts.name,
        kana=facts.kana,
        birth=facts.birth,
        sex=facts.sex,
        address=facts.address,
        my_number_index=index,
    )


def _conditions(facts: domain.Facts) -> list[object]:
    found: list[object] = []
    if facts.name_key:
        found.append(StateRow.name_key == facts.name_key)
    if facts.kana_key:
        found.append(StateRow.kana_key == facts.kana_key)
    if facts.birth_day:
        found.append(StateRow.birth_day == facts.birth_day)
    return found


def find(
    uow: UnitOfWork,
    facts: domain.Facts,
    *,
    my_number_index: str | None = None,
    exclude: Iterable[str] = (),
    sources: Sequence[str] | None = None,
    limit: int = RESULT_LIMIT,
) -> list[Candidate]:
    """The persons worth showing (verdict review or auto-link), best first."""
    skip = set(exclude)
    conditions = _conditions(facts)
    rows: list[StateRow] = []
    if conditions:
        stmt = select(StateRow).where(or_(*conditions))  # type: ignore[arg-type]
        if sources:
            stmt = stmt.where(StateRow.source.in_(list(sources)))
        rows = list(uow.session.scalars(stmt.limit(SCAN_LIMIT)))
    if my_number_index:
        same = [n for n in numbers_with_index(uow, my_number_index) if n not in skip]
        if same:
            rows.extend(
                uow.session.scalars(
                    select(StateRow).where(
                        StateRow.atena_number.in_(same), StateRow.current.is_(True)
                    )
                )
            )
    rows = [r for r in rows if r.atena_number not in skip]
    indexes = my_number_indexes(uow, {r.atena_number for r in rows}) if my_number_index else {}
    mine = _person_facts(facts, my_number_index)
    best: dict[str, tuple[matching.Assessment, StateRow]] = {}
    for row in rows:
        theirs = _person_facts(facts_of_state(row), indexes.get(row.atena_number))
        assessment = matching.assess(mine, theirs)
        if assessment.verdict is matching.Verdict.DISTINCT:
            continue
        known = best.get(row.atena_number)
        if known is None or (assessment.score, row.current) > (known[0].score, known[1].current):
            best[row.atena_number] = (assessment, row)
    protected = protected_numbers(uow, best)
    found = [
        Candidate(
            atena_number=atena,
            source=row.source,
            assessment=assessment,
            state=facts_of_state(row),
            current=row.current,
            protected=atena in protected,
        )
        for atena, (assessment, row) in best.items()
    ]
    found.sort(
        key=lambda c: (c.assessment.verdict is not matching.Verdict.AUTO_LINK, -c.score,
                       c.atena_number)
    )  # fmt: skip
    return found[:limit]


def group_of(uow: UnitOfWork, atena_number: str) -> set[str]:
    """The 宛名番号 linked with this one by 名寄せ (itself included)."""
    target = uow.session.scalars(
        select(IdentityRow.nayose_target).where(IdentityRow.atena_number == atena_number)
    ).first()
    if not target:
        return {atena_number}
    return set(
        uow.session.scalars(
            select(IdentityRow.atena_number).where(IdentityRow.nayose_target == target)
        )
    ) | {atena_number}
