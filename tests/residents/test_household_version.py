"""A client can learn a household's version (issue 14, item 15).

Why: 転入 into a household, 出生, 世帯主変更 and 転居 take `expected_household_version`, but no
GET returned it, so a client could only guess it or leave the optimistic check off.
"""

from __future__ import annotations

from tests.residents.conftest import Clerk, days_ago, family_move_in, person


def test_the_resident_read_tells_the_household_version_the_changes_expect(clerk: Clerk) -> None:
    head = family_move_in(clerk)["atena_numbers"][0]
    read = clerk.resident(head)
    household, version = read["snapshot"]["household_number"], read["household_version"]
    assert isinstance(version, int) and version >= 1
    born = clerk.ok(
        "/residents/birth",
        {
            "household_number": household,
            "person": person("青木", "次郎", "アオキ", "ジロウ", "1", days_ago(2), "子"),
            "expected_household_version": version,
        },
        status=201,
    )
    after = clerk.resident(born["atena_numbers"][0])["household_version"]
    assert after > version and clerk.resident(head)["household_version"] == after
    stale = clerk.post(
        "/residents/birth",
        {
            "household_number": household,
            "person": person("青木", "三郎", "アオキ", "サブロウ", "1", days_ago(1), "子"),
            "expected_household_version": version,
        },
    )
    assert stale.status_code == 409 and stale.json()["type"] == "urn:kikan:problem:stale-version"
    assert stale.json()["title"] == "他の処理と競合しました。"  # a race: read again and retry
