"""印鑑登録 (業務コード 002) as the composition root sees it: one descriptor, nothing imported."""

from __future__ import annotations

from kikan.platform.modules import CliVerb, ModuleDescriptor

MODULE = ModuleDescriptor(
    name="seal",
    title="印鑑登録",
    package="kikan.seal",
    functions="functions.toml",
    gyomu_code="002",
    api_routers=("kikan.seal.api:router",),
    cli=(CliVerb("seal", "kikan.seal.cli:seal_app"),),
    stores=("kikan.seal.store",),
    settings="kikan.seal.settings:SealSettings",
    migrations="migrations",
    linkage_consumers=("kikan.seal.service.replica:CONSUMER",),
)

#: the module's 機能ID catalogue (functions.toml), read once: `FUNCTIONS.entry("seal.…")`
FUNCTIONS = MODULE.function_table()
