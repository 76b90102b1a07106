"""個人住民税 (業務コード 010) as the composition root sees it: one descriptor, nothing imported."""

from __future__ import annotations

from kikan.platform.modules import CliVerb, ModuleDescriptor

MODULE = ModuleDescriptor(
    name="juminzei",
    title="個人住民税",
    package="kikan.juminzei",
    gyomu_code="010",
    api_routers=("kikan.juminzei.api:router",),
    ui_routers=("kikan.juminzei.web:router",),
    nav=("kikan.juminzei.web.common:NAV",),
    templates=("web/templates",),
    cli=(CliVerb("juminzei", "kikan.juminzei.cli:juminzei_app"),),
    stores=("kikan.juminzei.store",),
    settings="kikan.juminzei.settings:JuminzeiSettings",
    migrations="migrations",
    functions="functions.toml",
    linkage_consumers=("kikan.juminzei.linkage:CONSUMER",),
    linkage_scopes="kikan.juminzei.domain:LINKAGE_SCOPES",
)

#: the module's 機能ID catalogue (functions.toml), read once: `FUNCTIONS.entry("juminzei.…")`
FUNCTIONS = MODULE.function_table()
