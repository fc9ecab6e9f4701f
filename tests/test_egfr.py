import ast
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from labinterp import catalogue
from labinterp.equations.egfr import (
    EQUATIONS,
    Equation,
    crcl_cockcroft_gault,
    egfr_ckd_epi_2009_cr,
    egfr_ckd_epi_2012_cr_cys,
    egfr_ckd_epi_2012_cys,
    egfr_ckd_epi_2021_cr,
    egfr_ckd_epi_2021_cr_cys,
    egfr_ekfc_cr,
    egfr_lund_malmo_revised,
    egfr_mdrd_idms,
    egfr_schwartz_bedside,
    ekfc_q,
    equation,
)
from labinterp.errors import (
    CatalogueError,
    InvalidResultError,
    LabinterpError,
    UnitsRequiredError,
)
from labinterp.units import conversion, ureg
from labinterp.vocab import Sex

from .conftest import ROOT, load_vectors, vector_id

#: The nine eGFR equations and the Cockcroft-Gault clearance, in registry order.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        egfr_ckd_epi_2021_cr,
        egfr_ckd_epi_2009_cr,
        egfr_ekfc_cr,
        egfr_lund_malmo_revised,
        egfr_mdrd_idms,
        egfr_schwartz_bedside,
        crcl_cockcroft_gault,
        egfr_ckd_epi_2012_cys,
        egfr_ckd_epi_2012_cr_cys,
        egfr_ckd_epi_2021_cr_cys,
    )
}


def _params(f: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(f).parameters)


CREATININE_EQUATIONS = [name for name, f in FUNCTIONS.items() if "creatinine" in _params(f)]
CYSTATIN_EQUATIONS = [name for name, f in FUNCTIONS.items() if "cystatin_c" in _params(f)]
SEXED_EQUATIONS = [name for name, f in FUNCTIONS.items() if "sex" in _params(f)]

VECTOR_FILES = [
    "egfr_inker2021_table_s11.csv",
    "egfr_kidney_epi.csv",
    "egfr_transplantr.csv",
    "egfr_clinpk.csv",
    "egfr_clincalc.csv",
    "egfr_tabletools.csv",
    "egfr_epocakir.csv",
]
VECTORS = [row for name in VECTOR_FILES for row in load_vectors(name)]
Q_TABLE = load_vectors("egfr_ekfc_q.csv")
UMOL_PER_MG_DL = conversion("mg/dL", "umol/L", "creatinine").scale


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _at_precision(actual: float, expected: str) -> bool:
    """Return whether ``actual`` rounds to ``expected`` at the precision it is written with."""
    return abs(actual - float(expected)) <= 0.5 * 10 ** -_decimals(expected) + 1e-9


def _kwargs(row: dict[str, str]) -> dict[str, Any]:
    """Build the keyword arguments of an equation from a vector row."""
    params = _params(FUNCTIONS[row["equation"]])
    kwargs: dict[str, Any] = {}
    if "creatinine" in params:
        kwargs["creatinine"] = float(row["creatinine"]) * ureg(row["creatinine_unit"])
    if "cystatin_c" in params:
        kwargs["cystatin_c"] = float(row["cystatin_c"]) * ureg(row["cystatin_c_unit"])
    if "age_years" in params:
        kwargs["age_years"] = float(row["age_years"])
    if "sex" in params:
        kwargs["sex"] = row["sex"]
    if "height_cm" in params:
        kwargs["height_cm"] = float(row["height_cm"])
    if "weight_kg" in params:
        kwargs["weight_kg"] = float(row["weight_kg"])
    return kwargs


def _typical(name: str, **override: Any) -> dict[str, Any]:
    """Return valid keyword arguments for an equation, with overrides."""
    params = _params(FUNCTIONS[name])
    kwargs: dict[str, Any] = {
        "creatinine": 80 * ureg("umol/L"),
        "cystatin_c": 1.0 * ureg("mg/L"),
        "age_years": 50.0,
        "sex": Sex.FEMALE,
        "height_cm": 140.0,
        "weight_kg": 70.0,
    }
    kwargs.update(override)
    return {k: v for k, v in kwargs.items() if k in params}


@pytest.mark.parametrize("row", VECTORS, ids=[vector_id(r) for r in VECTORS])
def test_vectors(row: dict[str, str]) -> None:
    """Each equation reproduces its published and cross-implementation vectors."""
    result = FUNCTIONS[row["equation"]](**_kwargs(row))
    actual = result.to(row["expected_unit"].replace("1.73m2", "_1_73_m2")).magnitude
    assert _at_precision(actual, row["expected"]), (actual, row["expected"])


@pytest.mark.parametrize("row", Q_TABLE, ids=[vector_id(r) for r in Q_TABLE])
def test_ekfc_q_table(row: dict[str, str]) -> None:
    """The EKFC Q value matches the table in µmol/L and in mg/dL."""
    q = ekfc_q(age_years=float(row["age_years"]), sex=row["sex"])
    assert _at_precision(q.to("umol/L").magnitude, row["q_umol_l"])
    assert _at_precision(q.magnitude / UMOL_PER_MG_DL, row["q_mg_dl"])


def test_every_equation_has_a_published_or_derived_vector() -> None:
    """Every equation function appears in at least one vector row."""
    assert {row["equation"] for row in VECTORS} == set(FUNCTIONS)


@pytest.mark.parametrize("name", CREATININE_EQUATIONS)
@pytest.mark.parametrize("mg_dl", [0.45, 0.7, 0.9, 1.3, 4.2])
def test_same_patient_in_mg_dl_and_umol_l(name: str, mg_dl: float) -> None:
    """Creatinine in mg/dL, µmol/L and mmol/L gives the same result."""
    in_mg = FUNCTIONS[name](**_typical(name, creatinine=mg_dl * ureg("mg/dL")))
    umol = mg_dl * UMOL_PER_MG_DL
    in_umol = FUNCTIONS[name](**_typical(name, creatinine=umol * ureg("umol/L")))
    in_mmol = FUNCTIONS[name](**_typical(name, creatinine=umol / 1000 * ureg("mmol/L")))
    assert in_umol.magnitude == pytest.approx(in_mg.magnitude, rel=1e-12)
    assert in_mmol.magnitude == pytest.approx(in_mg.magnitude, rel=1e-12)


@pytest.mark.parametrize("name", CYSTATIN_EQUATIONS)
def test_cystatin_in_mg_l_and_mg_dl(name: str) -> None:
    """Cystatin C in mg/L and mg/dL gives the same eGFR."""
    in_mg_l = FUNCTIONS[name](**_typical(name, cystatin_c=1.3 * ureg("mg/L")))
    in_mg_dl = FUNCTIONS[name](**_typical(name, cystatin_c=0.13 * ureg("mg/dL")))
    assert in_mg_dl.magnitude == pytest.approx(in_mg_l.magnitude, rel=1e-12)


def _age_for(name: str, draw: float) -> float:
    band = EQUATIONS[name]
    low = band.age_min or 0.0
    high = band.age_max or 100.0
    return low + draw * (high - low) * 0.999


@pytest.mark.parametrize("name", CREATININE_EQUATIONS)
@given(
    low=st.floats(min_value=0.1, max_value=15.0),
    step=st.floats(min_value=0.0, max_value=10.0),
    age_draw=st.floats(min_value=0.0, max_value=1.0),
    sex=st.sampled_from(list(Sex)),
)
def test_non_increasing_in_creatinine(
    name: str, low: float, step: float, age_draw: float, sex: Sex
) -> None:
    """A higher creatinine never gives a higher eGFR or clearance."""
    age = _age_for(name, age_draw)
    f = FUNCTIONS[name]
    lower = f(**_typical(name, creatinine=low * ureg("mg/dL"), age_years=age, sex=sex))
    higher = f(**_typical(name, creatinine=(low + step) * ureg("mg/dL"), age_years=age, sex=sex))
    assert higher.magnitude <= lower.magnitude * (1 + 1e-12)


@pytest.mark.parametrize("name", CYSTATIN_EQUATIONS)
@given(
    low=st.floats(min_value=0.2, max_value=8.0),
    step=st.floats(min_value=0.0, max_value=5.0),
    age_draw=st.floats(min_value=0.0, max_value=1.0),
    sex=st.sampled_from(list(Sex)),
)
def test_non_increasing_in_cystatin_c(
    name: str, low: float, step: float, age_draw: float, sex: Sex
) -> None:
    """A higher cystatin C never gives a higher eGFR."""
    age = _age_for(name, age_draw)
    f = FUNCTIONS[name]
    lower = f(**_typical(name, cystatin_c=low * ureg("mg/L"), age_years=age, sex=sex))
    higher = f(**_typical(name, cystatin_c=(low + step) * ureg("mg/L"), age_years=age, sex=sex))
    assert higher.magnitude <= lower.magnitude * (1 + 1e-12)


@pytest.mark.parametrize("name", ["egfr_ckd_epi_2021_cr", "egfr_ckd_epi_2009_cr", "egfr_ekfc_cr"])
@pytest.mark.parametrize("sex", list(Sex))
def test_continuous_at_the_spline_knot(name: str, sex: Sex) -> None:
    """The two-slope equations do not jump where the creatinine exponent changes."""
    knot = 0.7 if sex is Sex.FEMALE else 0.9
    if name == "egfr_ekfc_cr":
        knot = ekfc_q(age_years=50, sex=sex).to("umol/L").magnitude / UMOL_PER_MG_DL
    f = FUNCTIONS[name]
    below = f(creatinine=knot * (1 - 1e-9) * ureg("mg/dL"), age_years=50, sex=sex)
    above = f(creatinine=knot * (1 + 1e-9) * ureg("mg/dL"), age_years=50, sex=sex)
    assert above.magnitude == pytest.approx(below.magnitude, rel=1e-6)


@pytest.mark.parametrize("name", CREATININE_EQUATIONS)
@pytest.mark.parametrize("bare", [88.0, 88, np.array([88.0, 90.0]), pd.Series([88.0])])
def test_bare_creatinine_needs_a_unit(name: str, bare: Any) -> None:
    """A bare number, array or Series where creatinine belongs raises UnitsRequiredError."""
    with pytest.raises(UnitsRequiredError, match=r"ureg\('umol/L'\)") as info:
        FUNCTIONS[name](**_typical(name, creatinine=bare))
    assert info.value.field == "creatinine"


@pytest.mark.parametrize("name", CYSTATIN_EQUATIONS)
def test_bare_cystatin_needs_a_unit(name: str) -> None:
    """A bare float where cystatin C belongs raises UnitsRequiredError showing mg/L."""
    with pytest.raises(UnitsRequiredError, match=r"ureg\('mg/L'\)"):
        FUNCTIONS[name](**_typical(name, cystatin_c=1.1))


def test_wrong_dimension_is_a_unit_error() -> None:
    """Creatinine given in a flow unit is refused with a LabinterpError naming the field."""
    with pytest.raises(LabinterpError) as info:
        egfr_ckd_epi_2021_cr(creatinine=80 * ureg("mL/min"), age_years=50, sex="F")
    assert info.value.field == "creatinine"


@pytest.mark.parametrize("name", SEXED_EQUATIONS)
@pytest.mark.parametrize("sex", ["X", "unknown", "1", "", None, 1])
def test_unknown_sex_raises(name: str, sex: Any) -> None:
    """An unknown sex raises a ValueError subclass from labinterp, never picks a branch."""
    with pytest.raises(InvalidResultError) as info:
        FUNCTIONS[name](**_typical(name, sex=sex))
    assert isinstance(info.value, ValueError)
    assert info.value.field == "sex"


def test_unknown_sex_in_a_series_names_the_position() -> None:
    """An unknown code inside a Series raises and reports its position, not its value."""
    with pytest.raises(InvalidResultError) as info:
        egfr_ckd_epi_2021_cr(
            creatinine=ureg.Quantity(np.array([70.0, 80.0, 90.0]), "umol/L"),
            age_years=pd.Series([40, 50, 60]),
            sex=pd.Series(["F", "M", "?"]),
        )
    assert info.value.row == 2
    assert "?" not in str(info.value)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("female", 109.28), ("F", 109.28), ("K", 109.28), ("kvinna", 109.28), ("M", 117.60)],
)
def test_sex_codes(code: str, expected: float) -> None:
    """Unambiguous Nordic and English sex codes select the right coefficients."""
    egfr = egfr_ckd_epi_2021_cr(creatinine=0.6 * ureg("mg/dL"), age_years=50, sex=code)
    assert round(egfr.magnitude, 2) == expected


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_series_index_preserved(name: str) -> None:
    """Series inputs give a float Series with the same index, name and unit attribute."""
    index = pd.Index([101, 205, 309], name="source_row")
    kwargs = _typical(
        name,
        creatinine=ureg.Quantity(np.array([60.0, 90.0, 150.0]), "umol/L"),
        cystatin_c=ureg.Quantity(np.array([0.7, 1.0, 1.9]), "mg/L"),
        age_years=pd.Series([30.0, 50.0, 70.0], index=index),
        sex=pd.Series(["F", "M", "F"], index=index),
        height_cm=pd.Series([120.0, 130.0, 140.0], index=index),
        weight_kg=pd.Series([60.0, 80.0, 70.0], index=index),
    )
    result = FUNCTIONS[name](**kwargs)
    assert isinstance(result, pd.Series)
    assert result.index.equals(index)
    assert result.name == name
    assert result.attrs["unit"] == EQUATIONS[name].output
    one = FUNCTIONS[name](
        **_typical(
            name,
            creatinine=90 * ureg("umol/L"),
            cystatin_c=1.0 * ureg("mg/L"),
            age_years=50.0,
            sex="M",
            height_cm=130.0,
            weight_kg=80.0,
        )
    )
    assert result.loc[205] == pytest.approx(one.magnitude, rel=1e-12)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_array_in_quantity_out(name: str) -> None:
    """NumPy inputs give a Quantity with an array magnitude in the output unit."""
    kwargs = _typical(
        name,
        creatinine=ureg.Quantity(np.array([60.0, 90.0]), "umol/L"),
        age_years=np.array([30.0, 60.0]),
    )
    result = FUNCTIONS[name](**kwargs)
    assert isinstance(result.magnitude, np.ndarray)
    assert result.magnitude.shape == (2,)
    unit = "mL/min" if name.startswith("crcl") else "mL/min/_1_73_m2"
    assert result.units == ureg.Unit(unit)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_scalar_in_float_quantity_out(name: str) -> None:
    """Scalar inputs give a Quantity with a Python float magnitude."""
    result = FUNCTIONS[name](**_typical(name))
    assert type(result.magnitude) is float
    assert math.isfinite(result.magnitude)


def test_mismatched_series_indexes_raise() -> None:
    """Series with different indexes are refused rather than silently misaligned."""
    with pytest.raises(InvalidResultError):
        egfr_ckd_epi_2021_cr(
            creatinine=ureg.Quantity(np.array([70.0, 80.0]), "umol/L"),
            age_years=pd.Series([40, 50], index=[1, 2]),
            sex=pd.Series(["F", "M"], index=[2, 3]),
        )


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_no_race_parameter(name: str) -> None:
    """No equation takes a race argument: the published race factors are not implemented."""
    assert not any("race" in p or "ethnic" in p for p in _params(FUNCTIONS[name]))


@pytest.mark.parametrize("name", SEXED_EQUATIONS)
def test_out_of_range_age_is_computed_not_nan(name: str) -> None:
    """Equations compute outside their age band; the caller applies Equation.applies_at."""
    age = (EQUATIONS[name].age_min or 1.0) / 2 + 0.5
    assert math.isfinite(FUNCTIONS[name](**_typical(name, age_years=age)).magnitude)


def test_applicability_covers_every_equation() -> None:
    """The registry has one entry per equation with a sane age band and sources."""
    assert set(EQUATIONS) == set(FUNCTIONS)
    for name, band in EQUATIONS.items():
        assert band.sources, name
        assert set(band.inputs) == set(_params(FUNCTIONS[name])), name
        if band.age_max is not None:
            assert band.age_min is not None and band.age_min < band.age_max, name


def test_nordic_age_limits() -> None:
    """CKD-EPI, MDRD, LMR and CG start at 18 y, EKFC at 2 y, Schwartz covers 1 to < 18 y."""
    assert EQUATIONS["egfr_ckd_epi_2009_cr"].age_min == 18
    assert EQUATIONS["egfr_lund_malmo_revised"].age_min == 18
    assert EQUATIONS["crcl_cockcroft_gault"].age_min == 18
    assert EQUATIONS["egfr_ekfc_cr"].age_min == 2
    assert (
        EQUATIONS["egfr_schwartz_bedside"].age_min,
        EQUATIONS["egfr_schwartz_bedside"].age_max,
    ) == (1, 18)


def test_ekfc_q_switches_to_adult_values_after_25() -> None:
    """Q follows the polynomial up to 25 y and is 80/62 µmol/L from just above 25 y."""
    assert ekfc_q(age_years=25.01, sex="M").to("umol/L").magnitude == 80.0
    assert ekfc_q(age_years=25.01, sex="F").to("umol/L").magnitude == 62.0
    assert round(ekfc_q(age_years=25, sex="M").to("umol/L").magnitude, 1) == 80.9


@pytest.mark.parametrize(("sex", "constant"), [(Sex.FEMALE, 144.0), (Sex.MALE, 141.0)])
def test_ckd_epi_2009_uses_the_tabulated_constants(sex: Sex, constant: float) -> None:
    """At SCr = κ and age 0 the 2009 equation returns Levey 2009 Table 2's constant (144/141)."""
    kappa = 0.7 if sex is Sex.FEMALE else 0.9
    egfr = egfr_ckd_epi_2009_cr(creatinine=kappa * ureg("mg/dL"), age_years=0, sex=sex)
    assert egfr.magnitude == pytest.approx(constant, rel=1e-12)


# ---------------------------------------------------------------------------
# The registry

#: The display names of the eGFR equations as the interpreted frame has shown them
#: (the nine eGFR equations); Cockcroft-Gault's name is new with the registry.
ENGLISH_NAMES = {
    "egfr_ckd_epi_2021_cr": "CKD-EPI 2021 (creatinine)",
    "egfr_ckd_epi_2009_cr": "CKD-EPI 2009 (creatinine, no race factor)",
    "egfr_ekfc_cr": "EKFC (creatinine)",
    "egfr_lund_malmo_revised": "Lund-Malmö revised (creatinine)",
    "egfr_mdrd_idms": "MDRD IDMS (creatinine, no race factor)",
    "egfr_schwartz_bedside": "bedside Schwartz (creatinine, height)",
    "egfr_ckd_epi_2012_cys": "CKD-EPI 2012 (cystatin C)",
    "egfr_ckd_epi_2012_cr_cys": "CKD-EPI 2012 (creatinine and cystatin C, no race factor)",
    "egfr_ckd_epi_2021_cr_cys": "CKD-EPI 2021 (creatinine and cystatin C)",
}
TEXT_LANGS = sorted(p.stem for p in (ROOT / "src" / "labinterp" / "data" / "text").glob("*.toml"))


def _old_age_ok(
    age_min: float | None, age_max: float | None, age: float | np.ndarray
) -> np.ndarray:
    """Return where the age fits, as the age check before the registry did (a copy of it)."""
    ok = np.isfinite(age)
    with np.errstate(invalid="ignore"):
        if age_min is not None:
            ok &= age >= age_min
        if age_max is not None:
            ok &= age < age_max
    return np.asarray(ok, dtype=bool)


def test_registry_is_the_nine_egfr_equations_and_cockcroft_gault() -> None:
    """EQUATIONS holds exactly the ten functions, in order, keyed by function name."""
    assert list(EQUATIONS) == list(FUNCTIONS)
    assert len([k for k in EQUATIONS if k.startswith("egfr_")]) == 9
    for key, entry in EQUATIONS.items():
        assert isinstance(entry, Equation)
        assert entry.key == key == entry.function.__name__
        assert entry.function is FUNCTIONS[key]
        assert entry.steady_state is True
        assert entry.output == ("mL/min" if key == "crcl_cockcroft_gault" else "mL/min/1.73m²")


def test_registry_is_read_only() -> None:
    """Neither the registry nor its entries can be changed by a caller."""
    with pytest.raises(TypeError):
        EQUATIONS["egfr_x"] = EQUATIONS["egfr_ekfc_cr"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        EQUATIONS["egfr_ekfc_cr"].age_min = 0  # type: ignore[misc]


AGES = st.one_of(
    st.floats(min_value=-5, max_value=130),
    st.sampled_from([0.0, 1.0, 2.0, 17.999999, 18.0, 25.0, math.nan, math.inf, -math.inf]),
)


@pytest.mark.parametrize("name", list(EQUATIONS))
@given(ages=st.lists(AGES, max_size=30), one=AGES)
def test_applies_at_matches_the_old_age_check(name: str, ages: list[float], one: float) -> None:
    """Equation.applies_at equals the former age check for arrays and for one age."""
    entry = EQUATIONS[name]
    array = np.asarray(ages, dtype=np.float64)
    got = entry.applies_at(array)
    assert got.dtype == np.bool_ and got.shape == array.shape
    np.testing.assert_array_equal(got, _old_age_ok(entry.age_min, entry.age_max, array))
    single = entry.applies_at(one)
    assert single.shape == () and single.dtype == np.bool_
    assert bool(single) == bool(_old_age_ok(entry.age_min, entry.age_max, one))


@pytest.mark.parametrize("name", list(EQUATIONS))
def test_applies_at_band_edges(name: str) -> None:
    """The band is [age_min, age_max); NaN never applies."""
    entry = EQUATIONS[name]
    low = entry.age_min if entry.age_min is not None else -math.inf
    assert not entry.applies_at(math.nan)
    if entry.age_min is not None:
        assert entry.applies_at(entry.age_min) and not entry.applies_at(low - 1e-9)
    if entry.age_max is not None:
        assert not entry.applies_at(entry.age_max) and entry.applies_at(entry.age_max - 1e-9)


@pytest.mark.parametrize("name", list(EQUATIONS))
def test_equation_is_found_by_full_and_short_name(name: str) -> None:
    """equation() takes the function name or the profile's name without egfr_."""
    assert equation(name) is EQUATIONS[name]
    if name.startswith("egfr_"):
        assert equation(name.removeprefix("egfr_")) is EQUATIONS[name]


def test_unknown_equation_lists_the_known_ones() -> None:
    """An unknown name raises CatalogueError naming every registered equation, sorted."""
    known = ", ".join(sorted(FUNCTIONS))
    with pytest.raises(CatalogueError) as info:
        equation("ckd_epi_2099_cr")
    assert str(info.value) == f"Unknown eGFR equation; use one of: {known}."


def test_an_equation_entry_computes_like_its_function() -> None:
    """Calling a registry entry calls the equation."""
    kwargs = {"creatinine": 88 * ureg("umol/L"), "age_years": 64, "sex": "K"}
    entry = equation("ckd_epi_2009_cr")
    assert entry(**kwargs).magnitude == egfr_ckd_epi_2009_cr(**kwargs).magnitude


@pytest.mark.parametrize("lang", TEXT_LANGS)
def test_every_equation_has_a_name_in_every_language(lang: str) -> None:
    """Each registry key has equation.<key> for both audiences, citing the registry sources."""
    texts = catalogue.text_catalogue(lang)
    for key, entry in EQUATIONS.items():
        for audience in ("patient", "clinician"):
            name = texts[f"equation.{key}.{audience}"]
            assert name.text.strip(), (key, audience)
            assert tuple(name.sources) == entry.sources, (key, audience)
        assert texts[f"equation.{key}.patient"].text == texts[f"equation.{key}.clinician"].text


def test_english_equation_names_are_the_reported_names() -> None:
    """The English names are the ones the interpreted frame has always shown."""
    texts = catalogue.text_catalogue("en")
    names = {key: texts[f"equation.{key}.patient"].text for key in EQUATIONS}
    assert names == {
        **ENGLISH_NAMES,
        "crcl_cockcroft_gault": "Cockcroft-Gault (creatinine clearance)",
    }


def test_equations_import_nothing_above_units() -> None:
    """equations/ uses only itself, errors, units and vocab of labinterp (never the catalogue)."""
    allowed = ("labinterp.equations", "labinterp.errors", "labinterp.units", "labinterp.vocab")
    for path in (ROOT / "src" / "labinterp" / "equations").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for module in modules:
                if module == "labinterp" or module.startswith("labinterp."):
                    assert module.startswith(allowed), (path.name, module)
