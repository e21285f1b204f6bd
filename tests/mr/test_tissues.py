"""Laws of the tissue table: field dependence, contrast order, fat content."""

from __future__ import annotations

import math

import pytest

from simulator.errors import ParameterError
from simulator.mr.tissues import FAT_PEAKS, FAT_WATER_SHIFT_PPM, FIELDS_T, tissue_table

REQUIRED = (
    "air white_matter gray_matter csf fat muscle skin bone_cortex bone_marrow red_marrow "
    "cartilage meniscus ligament tendon synovial_fluid disc nucleus spinal_cord blood "
    "lesion_ms tumour oedema marrow_oedema effusion"
).split()
FATTY = ("fat", "bone_marrow", "red_marrow", "marrow_oedema")
WATER = (
    "white_matter",
    "gray_matter",
    "csf",
    "muscle",
    "cartilage",
    "nucleus",
    "disc",
    "spinal_cord",
    "blood",
    "lesion_ms",
    "tumour",
    "oedema",
    "effusion",
)


@pytest.mark.parametrize("field_t", FIELDS_T)
def test_required_tissues_present_and_consistent(field_t: float) -> None:
    table = tissue_table(field_t)
    assert set(REQUIRED) <= set(table)
    for name, t in table.items():
        assert t.name == name
        assert t.t2s_ms <= t.t2_ms <= t.t1_ms
    assert table["air"].pd == 0.0


def test_same_tissues_at_both_fields() -> None:
    assert set(tissue_table(1.5)) == set(tissue_table(3.0))


def test_t1_lengthens_with_field_while_t2_changes_little() -> None:
    lo, hi = tissue_table(1.5), tissue_table(3.0)
    for name in WATER:
        assert hi[name].t1_ms > lo[name].t1_ms, name
        # T2 is nearly field independent: within 25 % (Bojorquez 2017 review).
        assert abs(math.log(hi[name].t2_ms / lo[name].t2_ms)) < math.log(1.25), name
        # T2* shortens (or stays) with field: susceptibility effects scale with B0.
        assert hi[name].t2s_ms <= lo[name].t2s_ms, name


@pytest.mark.parametrize("field_t", FIELDS_T)
def test_relaxation_order(field_t: float) -> None:
    t = tissue_table(field_t)
    assert t["csf"].t1_ms > t["gray_matter"].t1_ms > t["white_matter"].t1_ms
    assert t["csf"].t2_ms > t["gray_matter"].t2_ms > t["white_matter"].t2_ms
    soft = [v for k, v in t.items() if k not in ("air", "bone_cortex")]
    assert min(soft, key=lambda v: v.t1_ms).name in ("fat", "bone_marrow")
    # Pathology holds more water than the tissue it replaces.
    assert t["lesion_ms"].t2_ms > t["white_matter"].t2_ms
    assert t["oedema"].t2_ms > t["white_matter"].t2_ms
    assert t["marrow_oedema"].t1_ms > t["bone_marrow"].t1_ms
    assert t["nucleus"].t2_ms > t["disc"].t2_ms


@pytest.mark.parametrize("field_t", FIELDS_T)
def test_textbook_t1w_and_t2w_contrast(field_t: float) -> None:
    t = tissue_table(field_t)

    def se(name: str, tr: float, te: float) -> float:
        v = t[name]
        return v.pd * (1 - math.exp(-tr / v.t1_ms)) * math.exp(-te / v.t2_ms)

    assert se("fat", 500, 15) > se("white_matter", 500, 15) > se("gray_matter", 500, 15)
    assert se("gray_matter", 500, 15) > se("csf", 500, 15)
    assert se("csf", 4000, 100) > se("gray_matter", 4000, 100) > se("white_matter", 4000, 100)


def test_fat_fraction_only_in_fatty_tissues() -> None:
    t = tissue_table(1.5)
    for name in FATTY:
        assert t[name].fat_fraction > 0.0, name
    for name in WATER:
        assert t[name].fat_fraction == 0.0, name
    assert t["bone_marrow"].fat_fraction > t["red_marrow"].fat_fraction


def test_fat_spectrum() -> None:
    assert sum(a for _, a in FAT_PEAKS) == pytest.approx(1.0, abs=1e-9)  # normalised
    main = max(FAT_PEAKS, key=lambda p: p[1])
    assert abs(main[0]) == pytest.approx(FAT_WATER_SHIFT_PPM)


@pytest.mark.parametrize("bad", [0.5, 2.0, 7.0, "x", None])
def test_unsupported_field_raises(bad: object) -> None:
    with pytest.raises(ParameterError) as err:
        tissue_table(bad)  # type: ignore[arg-type]
    assert "1.5" in str(err.value) and "3.0" in str(err.value)
    assert err.value.message("fr") != err.value.message("en")


@pytest.mark.parametrize("field_t", FIELDS_T)
def test_flair_nulls_csf_and_shows_plaques(field_t: float) -> None:
    t = tissue_table(field_t)
    ti = t["csf"].t1_ms * math.log(2.0)  # inversion null for a long TR

    def flair(name: str, te: float = 100.0) -> float:
        v = t[name]
        return v.pd * abs(1 - 2 * math.exp(-ti / v.t1_ms)) * math.exp(-te / v.t2_ms)

    assert flair("csf") < 1e-9  # exactly nulled (analytic identity)
    assert flair("lesion_ms") > flair("white_matter")
    assert flair("oedema") > flair("gray_matter")


@pytest.mark.parametrize("field_t", FIELDS_T)
def test_stir_nulls_fat_but_not_marrow_oedema(field_t: float) -> None:
    t = tissue_table(field_t)
    ti = t["fat"].t1_ms * math.log(2.0)

    def stir(name: str) -> float:
        v = t[name]
        return v.pd * abs(1 - 2 * math.exp(-ti / v.t1_ms)) * math.exp(-40.0 / v.t2_ms)

    assert stir("fat") < 1e-9
    # Clinical STIR order: oedema bright, muscle intermediate, fatty marrow dark.
    assert stir("marrow_oedema") > stir("muscle") > stir("bone_marrow")
    assert stir("effusion") > stir("muscle")
