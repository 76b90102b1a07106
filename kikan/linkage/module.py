"""庁内データ連携 as the composition root sees it.

A service, not a 業務: it has no 業務コード of its own; it publishes what the business modules
provide (their `linkage_providers`) to other vendors' systems (ADR 0011).
"""

from __future__ import annotations

from kikan.platform.modules import CliVerb, ModuleDescriptor

MODULE = ModuleDescriptor(
    name="linkage",
    title="庁内データ連携",
    package="kikan.linkage",
    functions="functions.toml",
    api_routers=("kikan.linkage.api:router",),
    cli=(CliVerb("linkage", "kikan.linkage.cli:linkage_app"),),
    stores=("kikan.linkage.store",),
    settings="kikan.linkage.settings:LinkageSettings",
)

#: the module's 機能ID catalogue (functions.toml), read once: `FUNCTIONS.entry("linkage.…")`
FUNCTIONS = MODULE.function_table()
