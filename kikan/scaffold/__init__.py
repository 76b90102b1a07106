"""`kikan module new`: a new business module starts uniform (docs/adding-a-module.md).

Developer tooling, not a module: it reads the registry (which 業務コード are taken) and so sits
above `kikan.modules`; it is wired in `kikan.cli` directly, never listed in the registry.
"""
