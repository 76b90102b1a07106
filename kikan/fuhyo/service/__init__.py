"""Use cases of 戸籍の附票, `fn(uow, ctx, command)` (ADR 0013): `records` (附票・記載・修正・消除・
改製), `notices` (附票記載事項通知 and the worklist), `copies` (戸籍の附票の写し), `export`."""
