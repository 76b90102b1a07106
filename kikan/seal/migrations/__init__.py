"""印鑑登録's own Alembic branch ("seal"): revisions after the platform chain's 0016 live here
(ADR 0011 addendum); the tables created before stay on the platform chain (0010)."""
