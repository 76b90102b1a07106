"""The 異動 screens choose their use case from a table, not an if-chain: every screen has exactly
one row, and the shared pre-check (someone must be picked) holds for every screen that picks."""

from __future__ import annotations

import pytest

from kikan.residents.domain import RegisterError
from kikan.residents.web.entry import KINDS
from kikan.residents.web.entry.use_cases import BUILDERS, build_use_case
from kikan.residents.web.entry.values import Values


def test_every_screen_has_one_use_case() -> None:
    assert set(BUILDERS) == set(KINDS)


@pytest.mark.parametrize("slug", sorted(s for s, k in KINDS.items() if "pick" in k.parts))
def test_a_screen_that_picks_refuses_an_empty_pick(slug: str) -> None:
    with pytest.raises(RegisterError) as info:
        build_use_case(KINDS[slug], Values(one={"household": "1" * 15}))
    assert info.value.code == "pick.none"


def test_a_person_screen_needs_the_person() -> None:
    with pytest.raises(RegisterError) as info:
        build_use_case(KINDS["cancel"], Values(one={"note": "誤入力"}))
    assert info.value.code == "person.none"
