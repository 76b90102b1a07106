"""Fixtures for 移行: a key ring, a processing context and small legacy files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kikan.migration.legacy import Mapping, bundled_mapping, load_mapping
from kikan.migration.synth import synth_to_files
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.crypto import KeyRing

ACTOR = audit.Actor(kind="operator", id="cli:pytest", terminal="cli")


@pytest.fixture
def keyfile(tmp_path: Path) -> Path:
    path = tmp_path / "mynumber.keys"
    KeyRing.generate_key_file(path, "k1")
    return path


@pytest.fixture
def ctx(keyfile: Path) -> Context:
    return Context(actor=ACTOR, keyring=KeyRing.from_config(None, keyfile, None))


def with_batch_size(mapping_path: Path, size: int) -> Path:
    """A copy of a mapping file with another batch size (tests use small batches)."""
    text = mapping_path.read_text("utf-8").replace("size = 2000", f"size = {size}")
    out = mapping_path.with_name(f"mapping_{size}.toml")
    out.write_text(text, "utf-8")
    return out


def legacy_city(
    directory: Path, tenant: str, population: int, seed: int, fmt: str, *, today: date
) -> tuple[Path, Path]:
    return synth_to_files(directory, tenant, population, seed, legacy_format=fmt, today=today)


def fixed_mapping() -> Mapping:
    return load_mapping(bundled_mapping("legacy_cp932_fixed.toml"))
