"""Use cases of the resident register: every 異動 is one function, run in the caller's unit of work.

Each use case validates with `domain`, appends one history row per affected person (履歴番号 +1,
full snapshot), updates the `current` projection and the household, writes one outbox event
(`residents.changed`) and one audit record — all in the caller's transaction, so a failed
use case leaves nothing behind. Optimistic versions guard against lost updates: a caller that
read version N and passes it as `expected_versions` gets 409 if someone changed the person since.

抑止 (spec 3.1) is enforced here, not in the API: every 異動 checks the 異動抑止 of the persons and
households it touches (in `_finish`), every read of one person's entry checks the 照会抑止
(`inquiry_check`), and `issue_blockers` answers the certificate issue. Level エラー raises
`SuppressedError` (the caller rolls back and audits the denial); level アラート adds a warning.

The room grew into a package (ADR 0005). Callers keep using `service.<name>`; this module
re-exports every public name. Where things live:

- `_common`: ChangeResult, loading and locking, version checks, numbering, My Number
  encryption, the write path (`_append`, `_finish`) and the 抑止 gate it applies;
- `entries`: 転入, 職権記載, 出生 (persons who enter the register);
- `changes`: 転居, 世帯主変更, 修正, 旧氏・通称, 個人番号, 住民票コード, 異動の取消し;
- `removals`: 転出予定・確定, 死亡, 職権消除 and the spec 4.0.4 head rules;
- `households`: 世帯分離・世帯合併・世帯変更;
- `reads`: 異動履歴, as of, 住民照会, 基本検索 (audited reads);
- `protection`: 支援措置 and 抑止, with `issue_blockers` and the other checks.
"""

from __future__ import annotations

from kikan.platform.context import JST
from kikan.residents.service._common import (
    EVENT_TOPIC,
    FUNCTION,
    SUPPRESSION_TOPIC,
    ChangeResult,
    household_members,
    is_protected,
    latest,
    protected_among,
)
from kikan.residents.service.changes import (
    CORRECTABLE,
    CORRECTION_REASONS,
    JUMINHYO_CODE_REASONS,
    MYNUMBER_REASONS,
    cancel_last,
    change_head,
    change_juminhyo_code,
    change_my_number,
    correct,
    delete_kyuuji,
    delete_tsuushou,
    move_within,
    record_kyuuji,
    record_tsuushou,
)
from kikan.residents.service.entries import (
    EX_OFFICIO_ENTRY_REASONS,
    Mover,
    enter_ex_officio,
    move_in,
    record_birth,
)
from kikan.residents.service.households import change_household, merge_households, split_household
from kikan.residents.service.protection import (
    SuppressionHit,
    add_suppression,
    confirm_support_measure,
    denial_event,
    end_support_measure,
    end_suppression,
    extend_support_measure,
    inquiry_check,
    issue_blockers,
    list_suppressions,
    one_year_after,
    release_temporarily,
    start_support_measure,
    support_measure_perpetrators,
    support_measure_records,
    support_measures,
    suppression_applies,
    suppression_flags,
)
from kikan.residents.service.reads import (
    SEARCH_COUNT_CAP,
    Guarded,
    HistoryEntry,
    ResidentDetail,
    SearchCriteria,
    as_of,
    detail,
    history,
    read_as_of,
    read_history,
    search,
)
from kikan.residents.service.removals import (
    EX_OFFICIO_REMOVAL_REASONS,
    confirm_move_out,
    plan_move_out,
    record_death,
    remove_ex_officio,
)

__all__ = [
    "CORRECTABLE",
    "CORRECTION_REASONS",
    "EVENT_TOPIC",
    "EX_OFFICIO_ENTRY_REASONS",
    "EX_OFFICIO_REMOVAL_REASONS",
    "FUNCTION",
    "JST",
    "JUMINHYO_CODE_REASONS",
    "MYNUMBER_REASONS",
    "SEARCH_COUNT_CAP",
    "SUPPRESSION_TOPIC",
    "ChangeResult",
    "Guarded",
    "HistoryEntry",
    "Mover",
    "ResidentDetail",
    "SearchCriteria",
    "SuppressionHit",
    "add_suppression",
    "as_of",
    "cancel_last",
    "change_head",
    "change_household",
    "change_juminhyo_code",
    "change_my_number",
    "confirm_move_out",
    "confirm_support_measure",
    "correct",
    "delete_kyuuji",
    "delete_tsuushou",
    "denial_event",
    "detail",
    "end_support_measure",
    "end_suppression",
    "enter_ex_officio",
    "extend_support_measure",
    "history",
    "household_members",
    "inquiry_check",
    "is_protected",
    "issue_blockers",
    "latest",
    "list_suppressions",
    "merge_households",
    "move_in",
    "move_within",
    "one_year_after",
    "plan_move_out",
    "protected_among",
    "read_as_of",
    "read_history",
    "record_birth",
    "record_death",
    "record_kyuuji",
    "record_tsuushou",
    "release_temporarily",
    "remove_ex_officio",
    "search",
    "split_household",
    "start_support_measure",
    "support_measure_perpetrators",
    "support_measure_records",
    "support_measures",
    "suppression_applies",
    "suppression_flags",
]
