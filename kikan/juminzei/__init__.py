"""個人住民税 (業務コード 010): created by `kikan module new`; see docs/adding-a-module.md."""
