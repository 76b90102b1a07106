"""異動 entry screens: 転入 (family), 出生, 転居, 転出, 転出確定, 死亡, 世帯主変更, 世帯分離・変更・
合併, 職権記載, 職権消除, 修正（誤記修正・職権修正・軽微な修正）and 異動の取消し.

Every screen follows one flow: 入力 → 確認 → 登録 → 受理通知 and follow-on checklist.

- Validation is the service's: the 確認 step runs the whole use case in a unit of work and rolls it
  back (a dry run), and each person's items go through `domain.validate_person` first so that a
  problem lands next to the right person's field. Templates hold no rules.
- 書かない窓口: a screen can be pre-filled from the register (`?atena=` loads the household) and
  from the four 券面事項 of a My Number card (氏名, 住所, 生年月日, 性別) pasted as JSON or typed.
- 修正 and 異動の取消し work on one person (`?atena=`) and carry the person's version from the
  screen's opening: when someone else changed the person meanwhile, the service's 409 is shown
  as it is and nothing is written.
- Each screen opening starts a counter-transaction timing (kikan.web); 登録 completes it in the
  same transaction as the 異動. The open timing is also the form's one-time token: a second
  登録 of the same screen (reload, double click) is refused instead of entering persons twice.

The rooms: `kinds` (the screens as data), `values` (reading the form), `use_cases` (which service
call each screen runs: a table over `arrivals`, `departures`, `households` and `person`), `checks`
(where a problem lands), `card` (券面事項), `reads` (audited pre-fill reads), `summary` (the 確認
step) and `screens` (the routes).
"""

from __future__ import annotations

from kikan.residents.web.entry.kinds import KINDS, Kind
from kikan.residents.web.entry.screens import router

__all__ = ["KINDS", "Kind", "router"]
