"""宛名管理 (業務コード 031) as the composition root sees it: one descriptor, nothing imported."""

from __future__ import annotations

from kikan.platform.modules import CliVerb, ModuleDescriptor

MODULE = ModuleDescriptor(
    name="atena",
    title="宛名管理",
    package="kikan.atena",
    gyomu_code="031",
    api_routers=("kikan.atena.api:router",),
    cli=(CliVerb("atena", "kikan.atena.cli:atena_app"),),
    stores=("kikan.atena.store",),
    settings="kikan.atena.settings:AtenaSettings",
    migrations="migrations",
    functions="functions.toml",
    linkage_consumers=("kikan.atena.linkage:CONSUMER",),
)

#: the module's 機能ID catalogue (functions.toml), read once: `FUNCTIONS.entry("atena.…")`
FUNCTIONS = MODULE.function_table()
