"""移行: synthetic municipalities and legacy-file import with 外字 同定."""
