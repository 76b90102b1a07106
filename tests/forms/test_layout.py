"""The registry and layout loaders refuse bad data with messages naming the file and key."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from kikan.forms import FormDataError, default_registry, load_registry, parse_layout, parse_registry

DATA = resources.files("kikan.forms") / "data"


def layout_data() -> dict[str, Any]:
    return tomllib.loads((DATA / "layouts" / "juminhyo_setai.toml").read_text("utf-8"))


def registry_data() -> dict[str, Any]:
    return tomllib.loads((DATA / "registry.toml").read_text("utf-8"))


def test_bundled_registry_lists_the_forms_with_low_confidence_ids() -> None:
    forms = default_registry().forms
    names = {e.name for e in forms.values()}
    assert {"住民票の写し（世帯連記式）", "住民票の写し（個人票）", "住民票記載事項証明書",
            "住民票の除票の写し", "転出証明書", "住民異動届受理通知"} <= names  # fmt: skip
    # 業務コード + serial: 001 住民記録, 002 印鑑登録 (kikan/seal), 004 戸籍の附票, 006 選挙人名簿,
    # 010 個人住民税 (assumed, confidence low)
    assert all(fid[:3] in {"001", "002", "004", "006", "010"} and len(fid) == 7 for fid in forms)
    assert {e.confidence for e in forms.values()} == {"low"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["forms"][0].update(id="001001"), r"forms\[0\]\.id: 帳票ID must be 7 digits"),
        (
            lambda d: d["forms"][1].update(id="0010001"),
            r"forms\[1\]\.id: 帳票ID 0010001 is listed twice",
        ),
        (lambda d: d["forms"][0].update(layout="../x.toml"), r"forms\[0\]\.layout"),
        (lambda d: d["forms"][0].update(confidence="sure"), r"forms\[0\]\.confidence"),
        (lambda d: d["forms"][0].pop("name"), r"forms\[0\]\.name: must be a non-empty string"),
        (lambda d: d["forms"][0].update(colour="red"), r"forms\[0\]\.colour: unknown key"),
        (lambda d: d.update(format=2), r"format: must be 1"),
    ],
)
def test_registry_rejects(change: Any, message: str) -> None:
    data = registry_data()
    change(data)
    with pytest.raises(FormDataError, match=message):
        parse_registry(data, "registry.toml")


def test_registry_rejects_a_missing_layout_file(tmp_path: Path) -> None:
    (tmp_path / "layouts").mkdir()
    data = (DATA / "registry.toml").read_text("utf-8")
    (tmp_path / "registry.toml").write_text(data, "utf-8")
    with pytest.raises(FormDataError, match=r"juminhyo_setai\.toml: file not found"):
        load_registry(tmp_path)


def test_registry_rejects_invalid_toml(tmp_path: Path) -> None:
    (tmp_path / "registry.toml").write_text("format = [", "utf-8")
    with pytest.raises(FormDataError, match=r"registry\.toml: not valid TOML"):
        load_registry(tmp_path)


def _rows(d: dict[str, Any]) -> list[dict[str, Any]]:
    return d["entries"]["rows"]  # type: ignore[no-any-return]


def _entry_image(d: dict[str, Any]) -> None:
    """Turn the first entry field into an image field with only the keys one may have."""
    f = _rows(d)[0]["fields"][0]
    for key in ("size", "min_size", "align", "wrap"):
        f.pop(key, None)
    f["kind"] = "image"


def _image_header(d: dict[str, Any]) -> dict[str, Any]:
    """Turn the first header field into an image field; returns it."""
    f: dict[str, Any] = d["header"]["rows"][0]["fields"][0]
    for key in ("size", "min_size", "align", "wrap"):
        f.pop(key, None)
    f["kind"] = "image"
    return f


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: _rows(d)[0]["fields"][0].update(w=300),
            r"entries\.rows\[0\]\.fields: field widths add up to",
        ),
        (
            lambda d: _rows(d)[0]["fields"][0].update(min_size=20),
            r"entries\.rows\[0\]\.fields\[0\]\.min_size: must not exceed size",
        ),
        (lambda d: _rows(d)[0]["fields"][0].update(size=2), r"size: must be ≥ 4"),
        (lambda d: _rows(d)[0]["fields"][0].update(align="middle"), r"align: must be one of"),
        (lambda d: _rows(d)[0]["fields"][0].update(field="Name"), r"lower_snake_case"),
        (lambda d: _rows(d)[1]["fields"][0].update(field="name"), r"field 'name' appears twice"),
        (lambda d: _rows(d)[0]["fields"][0].update(label_w=200), r"label_w .* must be less than w"),
        (lambda d: _rows(d)[0]["fields"][0].update(size="big"), r"size: must be a number"),
        (
            lambda d: d["header"]["rows"][0]["fields"][0].update(field="name"),
            r"also in \[header\]: name",
        ),
        (lambda d: d["certification"]["seal"].update(size=30), r"seal\.size: 電子公印は最大25mm角"),
        (lambda d: d["certification"].update(height=20), r"certification\.height: its parts need"),
        (lambda d: d["furniture"]["title"].update(x=150), r"furniture\.title: lies outside"),
        (lambda d: d["entries"].update(bottom=120), r"entries\.bottom: a page cannot hold"),
        (lambda d: d.pop("certification"), r"certification: missing table"),
        (lambda d: d["entries"].update(rows=[]), r"entries\.rows: must be a non-empty array"),
        (lambda d: d.update(orientation="sideways"), r"orientation: must be portrait or landscape"),
        (lambda d: _rows(d)[0]["fields"][0].update(kind="photo"), r"kind: must be one of"),
        (
            lambda d: _rows(d)[0]["fields"][0].update(kind="image"),
            r"entries\.rows\[0\]\.fields\[0\]\.min_size: unknown key",  # no font size
        ),
        (
            _entry_image,
            r"entries\.rows\[0\]\.fields\[0\]\.kind: image fields are allowed in \[header\] only",
        ),
        (
            lambda d: d["header"]["rows"][0]["fields"][0].update(kind="image"),
            r"header\.rows\[0\]\.fields\[0\]\.min_size: unknown key",
        ),
        (
            lambda d: _image_header(d).update(pad=40),
            r"header\.rows\[0\]\.fields\[0\]\.pad: leaves no room for the image",
        ),
    ],
)
def test_layout_rejects(change: Any, message: str) -> None:
    data = copy.deepcopy(layout_data())
    change(data)
    with pytest.raises(FormDataError, match=message) as info:
        parse_layout(data, "juminhyo_setai.toml")
    assert str(info.value).startswith("juminhyo_setai.toml: ")


def test_every_bundled_layout_loads() -> None:
    for entry in default_registry().forms.values():
        layout = parse_layout(
            tomllib.loads((DATA / "layouts" / entry.layout_file).read_text("utf-8")),
            entry.layout_file,
        )
        # A4; the 選挙人名簿抄本 (a one-line-per-person list) is the landscape one
        landscape = entry.layout_file == "senkyoninmeibo_shohon.toml"
        assert (layout.page_w, layout.page_h) == ((297, 210) if landscape else (210, 297))
