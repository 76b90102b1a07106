"""移行 (data migration from a legacy system) as the composition root sees it.

A service, not a 業務: no 業務コード; it feeds the resident register through its bulk interface
and has verbs and tables, but no API or pages (ADR 0011).
"""

from __future__ import annotations

from kikan.platform.modules import CliVerb, ModuleDescriptor

MODULE = ModuleDescriptor(
    name="migration",
    title="移行",
    package="kikan.migration",
    functions="functions.toml",
    cli=(
        CliVerb("import", "kikan.migration.cli:import_app"),
        CliVerb("synth", "kikan.migration.cli:synth_command"),
    ),
    stores=("kikan.migration.store",),
)

#: the module's 機能ID catalogue (functions.toml), read once: `FUNCTIONS.entry("migration.…")`
FUNCTIONS = MODULE.function_table()
