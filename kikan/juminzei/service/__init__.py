"""Use cases of 個人住民税, `fn(uow, ctx, command)` (ADR 0013); the commands in `commands`."""
