"""What each use case of the resident register is asked to do: one immutable object per call.

Every use case is `fn(uow, ctx, command)` (ADR 0013), as in seal and linkage's administration:
the unit of work owns the transaction, the `kikan.platform.context.Context` says who acts and
when (the 処理日 is `ctx.today`), and the command carries the request. The API, the entry
screens, the demo, the benchmarks and the tests build the same objects, so a use case has one
signature whoever calls it. Reads take a query object the same way.

The fields are named as the keyword arguments were, with the same defaults; `kw_only` keeps
every call site naming what it passes. Dates stay `date | str` where the use case parses a
notified string itself (`register_date`), so a parse error keeps its item and message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kikan.residents.domain import (
    DEFAULT_RELEASE,
    Address,
    OtherAddress,
    PersonInput,
    Reason,
    SupportEndReason,
    SuppressionTarget,
)

# --- shared references ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonRef:
    """One person by 宛名番号: 詳細, 加害者一覧, 本人通知の一覧・終了, 交付履歴."""

    atena_number: str


# --- 記載 (entries) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mover:
    """One person of a 転入 or 職権記載, with the My Number to record (if any)."""

    person: PersonInput
    my_number: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveIn:
    """転入 (and 再転入): movers into a new household or `join_household`."""

    movers: Sequence[Mover]
    address: Address
    prior_address: OtherAddress | None
    move_date: date | str
    notified_date: date | str | None = None
    reason: Reason = Reason.DOMESTIC_MOVE_IN
    join_household: str | None = None
    expected_household_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EnterExOfficio:
    """職権記載."""

    movers: Sequence[Mover]
    address: Address
    entry_date: date | str
    prior_address: OtherAddress | None = None
    notified_date: date | str | None = None
    reason: Reason = Reason.EX_OFFICIO_ENTRY
    join_household: str | None = None
    expected_household_version: int | None = None
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordBirth:
    """出生届: the child joins `household_number`."""

    household_number: str
    person: PersonInput
    notified_date: date | str | None = None
    expected_household_version: int | None = None


# --- 変更 (changes) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveWithin:
    """転居: the whole household moves to `address`."""

    household_number: str
    address: Address
    move_date: date | str
    notified_date: date | str | None = None
    expected_household_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeHead:
    """世帯主変更, with the new 続柄 of the members."""

    household_number: str
    zokugara: Mapping[str, str]
    change_date: date | str
    notified_date: date | str | None = None
    expected_household_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Correct:
    """修正 (職権修正 and the other correction reasons)."""

    atena_number: str
    changes: Mapping[str, Any]
    reason: Reason = Reason.CLERICAL_CORRECTION
    note: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordKyuuji:
    """旧氏の記載."""

    atena_number: str
    kyuuji: str
    requested_date: date | str
    kyuuji_kana: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteKyuuji:
    """旧氏の削除."""

    atena_number: str
    requested_date: date | str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordTsuushou:
    """通称の記載."""

    atena_number: str
    tsuushou: str
    offered_date: date | str
    tsuushou_kana: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteTsuushou:
    """通称の削除."""

    atena_number: str
    offered_date: date | str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeMyNumber:
    """個人番号の変更."""

    atena_number: str
    my_number: str
    change_date: date | str
    reason: Reason = Reason.MYNUMBER_CHANGE
    notified_date: date | str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeJuminhyoCode:
    """住民票コードの変更."""

    atena_number: str
    juminhyo_code: str
    change_date: date | str
    reason: Reason = Reason.JUMINHYO_CODE_CHANGE
    notified_date: date | str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelLast:
    """異動の取消し (the person's last 異動)."""

    atena_number: str
    note: str = ""
    expected_version: int | None = None


# --- 世帯 (households) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitHousehold:
    """世帯分離: the members named in `zokugara` leave `household_number`."""

    household_number: str
    zokugara: Mapping[str, str]
    change_date: date | str
    notified_date: date | str | None = None
    expected_household_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeHouseholds:
    """世帯合併: `merging_household_number` joins `household_number`."""

    household_number: str
    merging_household_number: str
    zokugara: Mapping[str, str]
    change_date: date | str
    notified_date: date | str | None = None
    expected_household_versions: Mapping[str, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeHousehold:
    """世帯変更: members move from `household_number` to `target_household_number`."""

    household_number: str
    target_household_number: str
    zokugara: Mapping[str, str]
    change_date: date | str
    notified_date: date | str | None = None
    expected_household_versions: Mapping[str, int] | None = None


# --- 消除 (removals) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanMoveOut:
    """転出予定 (転出届)."""

    atena_numbers: Sequence[str]
    destination: OtherAddress
    planned_date: date | str
    notified_date: date | str
    expected_versions: Mapping[str, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmMoveOut:
    """転出確定."""

    atena_numbers: Sequence[str]
    moved_date: date | str
    confirmed_destination: OtherAddress | None = None
    expected_versions: Mapping[str, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordDeath:
    """死亡."""

    atena_number: str
    death_date: date | str
    notified_date: date | str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveExOfficio:
    """職権消除."""

    atena_numbers: Sequence[str]
    removal_date: date | str
    reason: Reason = Reason.EX_OFFICIO_REMOVAL
    notified_date: date | str | None = None
    note: str = ""
    expected_versions: Mapping[str, int] | None = None


# --- 照会 (reads) -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryQuery:
    """異動履歴 of one person, optionally as known at `known_at`."""

    atena_number: str
    known_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AsOfQuery:
    """The entry of one person valid on `valid_on`, as known at `known_at`."""

    atena_number: str
    valid_on: date | None = None
    known_at: datetime | None = None


@dataclass(frozen=True)
class SearchCriteria:
    """基本検索: prefixes of the keys, and the page."""

    name: str = ""
    kana: str = ""
    birth_date: str = ""
    address: str = ""
    atena_number: str = ""
    juminhyo_code: str = ""
    include_removed: bool = False
    page: int = 1
    page_size: int = 20


# --- 支援措置 and 抑止 (protection) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StartSupportMeasure:
    """支援措置の開始 (or its 仮登録 with `provisional`)."""

    atena_number: str
    start_date: date | str
    perpetrators: Sequence[Mapping[str, str]]
    provisional: bool = False
    end_date: date | str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendSupportMeasure:
    """支援措置の延長."""

    atena_number: str
    measure_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EndSupportMeasure:
    """支援措置の終了."""

    atena_number: str
    measure_id: int
    reason: SupportEndReason
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmSupportMeasure:
    """支援措置の本登録 (a provisional measure confirmed)."""

    atena_number: str
    measure_id: int
    start_date: date | str | None = None
    end_date: date | str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SupportMeasureQuery:
    """The 支援措置 of one person, the ended ones with `include_ended`."""

    atena_number: str
    include_ended: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AddSuppression:
    """抑止の登録."""

    atena_number: str
    kinds: Sequence[str]
    level: str
    start_date: date | str
    reason: str
    end_date: date | str | None = None
    target: str = SuppressionTarget.PERSON.value
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EndSuppression:
    """抑止の解除."""

    atena_number: str
    suppression_id: int
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseTemporarily:
    """抑止の一時解除 for `duration`."""

    atena_number: str
    suppression_id: int
    duration: timedelta = DEFAULT_RELEASE
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SuppressionQuery:
    """The 抑止 of one person, the ended ones with `include_ended`."""

    atena_number: str
    include_ended: bool = False


# --- 証明書 (certificates: 本人通知, 認証者) -----------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterHonninTsuuchi:
    """本人通知制度の登録."""

    atena_number: str
    send_to: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SetCertifier:
    """認証者 (職務代理者, 付記) of the tenant; `notice=None` keeps the current 付記."""

    deputy_title: str = ""
    deputy_name: str = ""
    deputy_from: date | None = None
    deputy_until: date | None = None
    deputy_seal_png: bytes | None = None
    notice: str | None = None
