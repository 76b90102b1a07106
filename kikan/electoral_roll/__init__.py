"""選挙人名簿管理 (業務コード 006): created by `kikan module new`; see docs/adding-a-module.md."""
