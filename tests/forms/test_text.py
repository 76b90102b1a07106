"""The fitting rules without a PDF: a fixed-width measure (1 pt CJK = 1 pt wide)."""

from __future__ import annotations

from kikan.forms.text import PT_MM, break_lines, clusters, fit_text, line_height


def em(cluster: str) -> float:
    """Every character one em wide, Latin half: like a monospaced Japanese font."""
    return PT_MM * (0.5 if cluster[0].isascii() else 1.0)


def test_clusters_keep_ivs_and_combining_marks_with_their_base() -> None:
    assert clusters("渡邉\U000e010f太") == ["渡", "邉\U000e010f", "太"]
    assert clusters("か\u3099") == ["か\u3099"]


def test_fits_at_nominal_size_without_report() -> None:
    fit = fit_text("𠮷田太郎", width_mm=50, height_mm=8, size=12, min_size=8, wrap=True,
                   can_grow=True, measure=em)  # fmt: skip
    assert fit.size == 12 and fit.lines == ("𠮷田太郎",) and not fit.overflowed


def test_shrinks_before_wrapping() -> None:
    text = "あ" * 20  # 20 em: at 12 pt 84.7 mm; box 60 mm → one line at 8.5 pt
    fit = fit_text(text, width_mm=60, height_mm=8, size=12, min_size=8, wrap=True,
                   can_grow=True, measure=em)  # fmt: skip
    assert len(fit.lines) == 1 and fit.shrunk and not fit.wrapped
    assert 8 <= fit.size < 12 and 20 * fit.size * PT_MM <= 60


def test_wraps_within_the_box_then_grows_never_cuts() -> None:
    text = "東京都千代田区" * 10
    tall = fit_text(text, width_mm=60, height_mm=12, size=11, min_size=8, wrap=True,
                    can_grow=False, measure=em)  # fmt: skip
    assert "".join(tall.lines) == text and tall.wrapped
    grown = fit_text(text * 3, width_mm=60, height_mm=8, size=11, min_size=8, wrap=True,
                     can_grow=True, measure=em)  # fmt: skip
    assert "".join(grown.lines) == text * 3 and grown.grown and grown.size == 8
    assert grown.height == len(grown.lines) * line_height(8)
    fixed = fit_text(text * 3, width_mm=60, height_mm=8, size=11, min_size=8, wrap=True,
                     can_grow=False, measure=em)  # fmt: skip
    assert "".join(fixed.lines) == text * 3 and fixed.below_minimum


def test_line_breaking_respects_kinsoku_and_latin_words() -> None:
    lines = break_lines("あいうえ。かき", width_mm=4 * 10 * PT_MM, size=10, measure=em)
    assert all(not line.startswith("。") for line in lines)
    assert "".join(lines) == "あいうえ。かき"
    words = break_lines("ZHANG YULIN", width_mm=8 * 0.5 * 10 * PT_MM, size=10, measure=em)
    assert words == ["ZHANG ", "YULIN"]
    ivs = break_lines("邉\U000e010f" * 5, width_mm=2 * 10 * PT_MM, size=10, measure=em)
    assert all(line.endswith("\U000e010f") for line in ivs)
