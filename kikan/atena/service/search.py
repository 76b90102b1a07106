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

from sqlalchemy import ColumnElement, and_, or_, select

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


def _best(rules: matching.MatchingRules, attribute: str,
          only: Iterable[matching.Agreement] | None = None) -> int:  # fmt: skip
    """The most points `attribute` can add, among the agreements `only` (all when None)."""
    return max(rules.points_for(attribute, a) for a in (only or matching.Agreement))


_NOT_MATCHING = (matching.Agreement.DIFFERENT, matching.Agreement.MISSING)
_LOOSE_BIRTH = (
    matching.Agreement.COMPATIBLE,
    matching.Agreement.MISSING,
    matching.Agreement.DIFFERENT,
)


def conditions(
    facts: domain.Facts, rules: matching.MatchingRules | None = None
) -> list[ColumnElement[bool]]:
    """The indexed equalities that find every state able to reach the review threshold.

    Derived from the weights, not assumed: a path (same name key, same 読み key, same birth
    day) is searched only when a state found only through it could still score enough, and is
    narrowed by the birth day when a different birth day would keep any such state below the
    threshold. With the weights of data/matching.toml: the name key with the same or an
    unknown birth day, the 読み key with the same birth day, and never the birth day alone
    (a shared birthday and nothing else is not evidence). A 個人番号 match is searched apart."""
    rules = rules or matching.default_rules()
    threshold, day = rules.review_threshold, facts.birth_day
    # a 不詳 or missing birth date on the query can at best be compatible, never the same
    birth_best = _best(rules, "birth", None if domain.birth_is_exact(facts.birth) else _LOOSE_BIRTH)
    rest = _best(rules, "sex") + _best(rules, "address")
    different_birth = rules.points_for("birth", matching.Agreement.DIFFERENT)
    found: list[ColumnElement[bool]] = []
    if facts.name_key:
        by_name: ColumnElement[bool] = StateRow.name_key == facts.name_key
        if day and _best(rules, "name") + _best(rules, "kana") + different_birth + rest < threshold:
            by_name = and_(by_name, StateRow.birth_day.in_([day, ""]))
        found.append(by_name)
    kana_only = _best(rules, "name", _NOT_MATCHING) + _best(rules, "kana") + rest
    if facts.kana_key and kana_only + birth_best >= threshold:
        by_kana: ColumnElement[bool] = StateRow.kana_key == facts.kana_key
        if day and kana_only + _best(rules, "birth", _LOOSE_BIRTH) < threshold:
            by_kana = and_(by_kana, StateRow.birth_day == day)
        found.append(by_kana)
    birth_only = (
        _best(rules, "name", _NOT_MATCHING) + _best(rules, "kana", _NOT_MATCHING)
        + birth_best + rest
    )  # fmt: skip
    if day and birth_only >= threshold:
        found.append(StateRow.birth_day == day)
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
    paths = conditions(facts)
    rows: list[StateRow] = []
    if paths:
        stmt = select(StateRow).where(or_(*paths))
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


#: persons per query of `find_many` (each adds up to two OR terms: SQLite's expression depth)
MANY_CHUNK = 100


def find_many(
    uow: UnitOfWork,
    persons: Sequence[tuple[str, domain.Facts]],
    *,
    sources: Sequence[str],
) -> dict[str, list[Candidate]]:
    """`find` for a page of persons at once (a sync page): one query per `MANY_CHUNK` persons
    instead of one per person; each person's own number is excluded. Without 個人番号 (the
    sync's pairs by 個人番号 come from `find` on the persons that have one)."""
    found: dict[str, list[Candidate]] = {}
    for start in range(0, len(persons), MANY_CHUNK):
        chunk = persons[start : start + MANY_CHUNK]
        paths = [c for _n, f in chunk for c in conditions(f)]
        if not paths:
            continue
        rows = list(
            uow.session.scalars(
                select(StateRow).where(or_(*paths), StateRow.source.in_(list(sources)))
            )
        )
        if not rows:
            continue
        protected = protected_numbers(uow, {r.atena_number for r in rows})
        for number, facts in chunk:
            mine = _person_facts(facts, None)
            best: dict[str, tuple[matching.Assessment, StateRow]] = {}
            for row in rows:
                if row.atena_number == number or not (
                    (facts.name_key and row.name_key == facts.name_key)
                    or (facts.kana_key and row.kana_key == facts.kana_key)
                    or (facts.birth_day and row.birth_day == facts.birth_day)
                ):
                    continue
                assessment = matching.assess(mine, _person_facts(facts_of_state(row), None))
                if assessment.verdict is matching.Verdict.DISTINCT:
                    continue
                known = best.get(row.atena_number)
                if known is None or (assessment.score, row.current) > (
                    known[0].score,
                    known[1].current,
                ):
                    best[row.atena_number] = (assessment, row)
            if best:
                found[number] = sorted(
                    (
                        Candidate(
                            atena,
                            row.source,
                            assessment,
                            facts_of_state(row),
                            row.current,
                            atena in protected,
                        )
                        for atena, (assessment, row) in best.items()
                    ),
                    key=lambda c: (-c.score, c.atena_number),
                )[:RESULT_LIMIT]
    return found


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
