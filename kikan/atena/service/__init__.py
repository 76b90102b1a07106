"""Use cases of 宛名管理, one function per use case, `fn(uow, ctx, command)` (ADR 0013):
the 住登外者 register and 付番 (`register`), the candidate search (`search`), 名寄せ
(`nayose`), the published query interface (`query`) and 団体内統合宛名 (`togo`)."""
