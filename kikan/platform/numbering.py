"""The tenant's one 宛名番号 space: the numbering service every module takes 宛名番号 from.

Why a platform service: 共通機能 住登外者宛名番号管理 requires that residents (住民宛名番号) and
non-residents (住登外者宛名番号) are numbered from ONE space, so that every business system names
one person with one number and a number never means two persons. The resident register and
宛名管理 are separate modules that may not read each other's tables; both take numbers here, in
their own transaction, from the same gap-free per-tenant sequence (`kikan.platform.sequences`).

The sequence keeps its historical name ``residents.atena`` (tenants' counters are stored under
it). 団体内統合宛名番号 (032) are not 宛名番号: 宛名管理 numbers them in a sequence of its own.
"""

from __future__ import annotations

from kikan.platform import sequences
from kikan.platform.ids import DEFAULT_ATENA_WIDTH, make_atena_number
from kikan.platform.uow import UnitOfWork

#: the one 宛名番号 sequence of a tenant (name kept from before this service: stored counters)
ATENA_SEQUENCE = "residents.atena"


def next_atena_numbers(uow: UnitOfWork, count: int) -> list[str]:
    """`count` new 宛名番号 (15 digits, M11W2〜7 check digit), in the caller's transaction."""
    return [
        make_atena_number(serial, DEFAULT_ATENA_WIDTH)
        for serial in sequences.next_values(uow, ATENA_SEQUENCE, count)
    ]


def next_atena_number(uow: UnitOfWork) -> str:
    return next_atena_numbers(uow, 1)[0]


def keep_atena_serial(uow: UnitOfWork, serial: int) -> None:
    """A number kept from a legacy system: never hand out its serial (or a lower one) again."""
    sequences.advance_past(uow, ATENA_SEQUENCE, serial)


def is_issued(uow: UnitOfWork, atena_number: str) -> bool:
    """Whether this well-formed 宛名番号 lies in the part of the space already handed out (by any
    module, or kept from a legacy system). Says nothing about whom it names."""
    return 0 < int(atena_number[:-1]) <= sequences.current_value(uow, ATENA_SEQUENCE)
