"""戸籍の附票 (業務コード 004): created by `kikan module new`; see docs/adding-a-module.md."""
