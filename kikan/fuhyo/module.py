"""戸籍の附票 (業務コード 004) as the composition root sees it: one descriptor, nothing imported."""

from __future__ import annotations

from kikan.platform.modules import CliVerb, ModuleDescriptor

MODULE = ModuleDescriptor(
    name="fuhyo",
    title="戸籍の附票",
    package="kikan.fuhyo",
    gyomu_code="004",
    api_routers=("kikan.fuhyo.api:router",),
    cli=(CliVerb("fuhyo", "kikan.fuhyo.cli:fuhyo_app"),),
    stores=("kikan.fuhyo.store",),
    settings="kikan.fuhyo.settings:FuhyoSettings",
    migrations="migrations",
    functions="functions.toml",
    linkage_consumers=("kikan.fuhyo.linkage:CONSUMER",),
    linkage_scopes="kikan.fuhyo.domain:LINKAGE_SCOPES",
)

#: the module's 機能ID catalogue (functions.toml), read once: `FUNCTIONS.entry("fuhyo.…")`
FUNCTIONS = MODULE.function_table()
