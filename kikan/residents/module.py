"""住民記録 (業務コード 001) as the composition root sees it: one descriptor, nothing imported."""

from __future__ import annotations

from kikan.platform.modules import CliVerb, DemoSeeder, LinkageProvider, ModuleDescriptor

MODULE = ModuleDescriptor(
    name="residents",
    title="住民記録",
    package="kikan.residents",
    functions="functions.toml",
    gyomu_code="001",
    api_routers=("kikan.residents.api:router",),
    ui_routers=("kikan.residents.web:router",),
    nav=(
        "kikan.residents.web.reads:NAV",
        "kikan.residents.web.entry.screens:NAV",
        "kikan.residents.web.it:NAV",
    ),
    templates=("web/templates",),
    cli=(CliVerb("certificate", "kikan.residents.cli:certificate_app"),),
    stores=("kikan.residents.store",),
    linkage_providers=(
        LinkageProvider(
            data_group="residents.changed",
            resource="residents",
            page="kikan.residents.linkage_feed:person_page",
            records="kikan.residents.linkage_feed:person_records",
            page_as_of="kikan.residents.linkage_feed:person_page_as_of",
            my_numbers="kikan.residents.linkage_feed:person_my_numbers",
        ),
    ),
    demo_seeders=(
        DemoSeeder("住民", "kikan.residents.demo:seed_demo_residents"),
        DemoSeeder("証明書設定", "kikan.residents.demo:seed_demo_certificate_settings"),
    ),
)

#: the module's 機能ID catalogue (functions.toml), read once: `FUNCTIONS.entry("residents.…")`
FUNCTIONS = MODULE.function_table()
