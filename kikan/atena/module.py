"""宛名管理 (共通機能 031 住登外者宛名番号管理 and 032 団体内統合宛名) as the composition root
sees it: one descriptor, nothing imported."""

from __future__ import annotations

from kikan.platform.modules import CliVerb, DemoSeeder, ModuleDescriptor

MODULE = ModuleDescriptor(
    name="atena",
    title="宛名管理",
    package="kikan.atena",
    gyomu_code="031",
    api_routers=("kikan.atena.api:router",),
    ui_routers=("kikan.atena.web:router",),
    nav=("kikan.atena.web.jutogai:NAV", "kikan.atena.web.nayose:NAV"),
    templates=("web/templates",),
    cli=(CliVerb("atena", "kikan.atena.cli:atena_app"),),
    stores=("kikan.atena.store",),
    settings="kikan.atena.settings:AtenaSettings",
    migrations="migrations",
    functions="functions.toml",
    linkage_consumers=("kikan.atena.linkage:CONSUMER",),
    linkage_scopes="kikan.atena.domain:LINKAGE_SCOPES",
    demo_seeders=(DemoSeeder("住登外者", "kikan.atena.demo:seed_demo_jutogai"),),
)

#: the module's 機能ID catalogue (functions.toml), read once: `FUNCTIONS.entry("atena.…")`
FUNCTIONS = MODULE.function_table()
