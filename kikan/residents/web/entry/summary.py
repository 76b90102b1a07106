"""What the 確認 step shows, item by item, before anything is written."""

from __future__ import annotations

from kikan.residents.domain import (
    Snapshot,
)
from kikan.residents.web.entry.kinds import CORRECT_FIELDS, SEX, Kind
from kikan.residents.web.entry.reads import PersonView
from kikan.residents.web.entry.values import (
    Values,
    corrections,
    current_values,
    form_address,
    form_other_address,
    form_zokugara,
)
from kikan.web import shell


def confirmation_items(  # noqa: PLR0912 - one block per part of the screen
    kind: Kind, v: Values, members: list[Snapshot], person: PersonView | None = None
) -> list[tuple[str, str]]:
    """What the confirmation step shows, item by item."""
    out: list[tuple[str, str]] = [("異動の種類", kind.title)]
    if kind.reasons:
        out.append(("異動事由", v.get("reason")))
    if person is not None:
        s = person.snapshot
        out.append(("対象者", f"{s.full_name}（宛名番号 {s.atena_number}、版 {v.get('version')}）"))
        if kind.slug == "cancel" and person.last is not None:
            e = person.last
            out.append(
                (
                    "取り消す異動",
                    f"履歴番号 {e.history_no}　{e.reason}（{shell.jdate(e.valid_from)}）",
                )
            )
        if "correct" in kind.parts:
            current = current_values(s)
            for name, change in corrections(v, s).items():
                if name == "address":
                    out.append(("住所", f"{s.address.text()} → {change.text()}"))
                    continue
                before, after = current[f"c_{name}"], change
                if name == "sex":
                    before, after = SEX.get(before, before), SEX.get(after, after)
                shown = f"{before or '（空欄）'} → {after or '（空欄）'}"
                out.append((CORRECT_FIELDS[name], shown))
    for name, label in kind.dates:
        if v.get(name):
            out.append((label, shell.jdate(v.get(name))))
    if "address" in kind.parts:
        out.append(("新しい住所", form_address(v, "addr").text()))
    if "prior" in kind.parts:
        prior = form_other_address(v, "prior")
        out.append(("転入前住所", prior.text() if prior else "（空欄）"))
    if "dest" in kind.parts:
        dest = form_other_address(v, "dest")
        out.append(("転出先住所", dest.text() if dest else ""))
    if "members" in kind.parts:
        for i in range(v.members if kind.multi else 1):
            p = f"m{i}_"
            out.append(
                (
                    f"異動者 {i + 1}",
                    f"{v.get(p + 'family_name')}　{v.get(p + 'given_name')}"
                    f"（{v.get(p + 'family_name_kana')}　{v.get(p + 'given_name_kana')}）"
                    f"　{v.get(p + 'birth_date')}生　{SEX.get(v.get(p + 'sex'), '')}"
                    f"　続柄 {v.get(p + 'zokugara')}"
                    + ("　個人番号あり" if v.get(p + "my_number") else ""),
                )
            )
    names = {m.atena_number: m.full_name for m in members}
    if "pick" in kind.parts:
        out.append(("異動者", "、".join(names.get(a, a) for a in v.picked)))
    if "zokugara" in kind.parts:
        z = form_zokugara(v, v.picked if "pick" in kind.parts else None)
        out.append(("新しい続柄", "、".join(f"{names.get(a, a)}：{val}" for a, val in z.items())))
    if "target" in kind.parts:
        label = "合併先の世帯番号" if kind.slug == "household-merge" else "異動先の世帯番号"
        out.append((label, v.get("target_household")))
    if v.get("join_household"):
        out.append(("入る世帯の世帯番号", v.get("join_household")))
    if "note" in kind.parts and v.get("note"):
        out.append(("取消しの理由" if kind.slug == "cancel" else "備考", v.get("note")))
    return out
