"""選挙人名簿管理 (業務コード 006) for the composition root: one descriptor, nothing imported."""

from __future__ import annotations

from kikan.platform.modules import CliVerb, ModuleDescriptor

MODULE = ModuleDescriptor(
    name="electoral_roll",
    title="選挙人名簿管理",
    package="kikan.electoral_roll",
    gyomu_code="006",
    api_routers=("kikan.electoral_roll.api:router",),
    cli=(CliVerb("electoral_roll", "kikan.electoral_roll.cli:electoral_roll_app"),),
    stores=("kikan.electoral_roll.store",),
    settings="kikan.electoral_roll.settings:ElectoralRollSettings",
    migrations="migrations",
    functions="functions.toml",
    linkage_consumers=("kikan.electoral_roll.linkage:CONSUMER",),
)

#: the module's 機能ID catalogue (functions.toml), read once: `FUNCTIONS.entry("electoral_roll.…")`
FUNCTIONS = MODULE.function_table()
