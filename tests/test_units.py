import ast
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import labinterp
from labinterp.equations import eag_from_hba1c, hba1c_ifcc_to_ngsp, hba1c_ngsp_to_ifcc
from labinterp.errors import IncompatibleUnitError, UnknownUnitError
from labinterp.units import normalise_unit

from .conftest import ROOT, load_vectors, vector_id

CONVERSIONS = load_vectors("conversions.csv")
MASTER = load_vectors("hba1c_master_equation.csv")
EAG = load_vectors("eag_adag.csv")


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


@pytest.mark.parametrize("row", CONVERSIONS, ids=[vector_id(r) for r in CONVERSIONS])
def test_published_conversions(row: dict[str, str]) -> None:
    """Conversion factors match the published values at the published precision."""
    got = labinterp.convert(
        float(row["value"]), row["from_unit"], row["to_unit"], analyte=row["analyte"]
    )
    assert round(got, _decimals(row["expected"])) == float(row["expected"])


@pytest.mark.parametrize("row", MASTER, ids=[vector_id(r) for r in MASTER])
def test_hba1c_master_equation_table(row: dict[str, str]) -> None:
    """NGSP % converts to the published IFCC mmol/mol (integers) through the master equation."""
    assert round(hba1c_ngsp_to_ifcc(float(row["ngsp_percent"]))) == int(row["ifcc_mmol_per_mol"])
    via_convert = labinterp.convert(float(row["ngsp_percent"]), "%", "mmol/mol", analyte="hba1c")
    assert round(via_convert) == int(row["ifcc_mmol_per_mol"])


@pytest.mark.parametrize("row", MASTER, ids=[vector_id(r) for r in MASTER])
def test_hba1c_master_equation_inverse(row: dict[str, str]) -> None:
    """Published IFCC integers convert back to NGSP % within the table's 0.1 % rounding."""
    back = hba1c_ifcc_to_ngsp(float(row["ifcc_mmol_per_mol"]))
    assert abs(back - float(row["ngsp_percent"])) <= 0.05


def _imported_modules(path) -> set[str]:
    """Every module a source file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_units_does_not_import_the_equations() -> None:
    """units.py holds the master-equation conversions itself: equations import units, not back."""
    imported = _imported_modules(ROOT / "src" / "labinterp" / "units.py")
    assert not [m for m in imported if m.startswith("labinterp.equations")]


def test_one_place_for_the_master_equation() -> None:
    """The HbA1c functions, labinterp.convert and the units module share one conversion."""
    from labinterp.equations import hba1c
    from labinterp.units import IFCC_TO_NGSP, NGSP_TO_IFCC, conversion

    assert hba1c.IFCC_TO_NGSP is IFCC_TO_NGSP and hba1c.NGSP_TO_IFCC is NGSP_TO_IFCC
    assert conversion("%", "mmol/mol", "hba1c") is NGSP_TO_IFCC
    assert conversion("mmol/mol", "%", "hba1c") is IFCC_TO_NGSP
    assert (IFCC_TO_NGSP.scale, IFCC_TO_NGSP.offset) == (0.09148, 2.152)


@pytest.mark.parametrize("row", EAG, ids=[vector_id(r) for r in EAG])
def test_eag_adag_table(row: dict[str, str]) -> None:
    """Estimated average glucose reproduces the ADAG table in mg/dL."""
    eag = eag_from_hba1c(float(row["ngsp_percent"])).to("mg/dL").magnitude
    # The table rounds half up (6 % -> 125.5 -> 126); compare within half a unit.
    assert abs(eag - int(row["eag_mg_dl"])) <= 0.5 + 1e-9


@pytest.mark.parametrize(
    ("spelling", "display"),
    [
        ("µmol/L", "µmol/L"),
        ("\u03bcmol/L", "µmol/L"),
        ("umol/l", "µmol/L"),
        ("mmol/l", "mmol/L"),
        ("mg/dl", "mg/dL"),
        ("ng/ml", "ng/mL"),
        ("ug/L", "µg/L"),
        ("mcg/L", "µg/L"),
        ("nmol/L", "nmol/L"),
        ("mmol/mol", "mmol/mol"),
        ("%", "%"),
        ("mEq/L", "mEq/L"),
        ("mL/min/1.73m2", "mL/min/1.73m²"),
        ("ml/min/1,73 m2", "mL/min/1.73m²"),
        ("mL/min/1,73m2", "mL/min/1.73m²"),
        ("mL/min/{1.73_m2}", "mL/min/1.73m²"),
    ],
)
def test_unit_spellings(spelling: str, display: str) -> None:
    """Unit spellings found in real exports normalise to one display form."""
    assert normalise_unit(spelling).display == display


@pytest.mark.parametrize("spelling", ["", "   ", "bananas", "mmol/banana"])
def test_unknown_units_raise(spelling: str) -> None:
    """An unrecognised unit is an error, never a guess."""
    with pytest.raises(UnknownUnitError):
        normalise_unit(spelling)


def test_percent_and_mmol_per_mol_need_the_analyte() -> None:
    """Without an analyte, % -> mmol/mol is refused (pint would multiply by 10)."""
    with pytest.raises(IncompatibleUnitError):
        labinterp.convert(6.5, "%", "mmol/mol")


def test_mass_to_substance_needs_the_analyte() -> None:
    """mg/dL -> µmol/L needs a molar mass, so it needs the analyte."""
    with pytest.raises(IncompatibleUnitError):
        labinterp.convert(1.0, "mg/dL", "umol/L")


def test_incompatible_units_for_an_analyte() -> None:
    """Creatinine in % cannot be converted to µmol/L."""
    with pytest.raises(IncompatibleUnitError):
        labinterp.convert(1.0, "%", "umol/L", analyte="creatinine")


def test_convert_keeps_the_kind_of_input() -> None:
    """Scalars stay floats, arrays stay arrays, Series keep their index."""
    series = pd.Series([1.0, 2.0], index=["a", "b"])
    out = labinterp.convert(series, "mg/dL", "umol/L", analyte="creatinine")
    assert isinstance(out, pd.Series) and out.index.tolist() == ["a", "b"]
    array = labinterp.convert(np.array([1.0, 2.0]), "mmol/L", "mg/dL", analyte="magnesium")
    assert isinstance(array, np.ndarray) and array.shape == (2,)
    assert isinstance(labinterp.convert(1, "g/L", "g/dL"), float)


units_by_analyte = st.sampled_from(
    [
        ("creatinine", "mg/dL", "umol/L"),
        ("magnesium", "mg/dL", "mmol/L"),
        ("magnesium", "mEq/L", "mmol/L"),
        ("vitamin_d_25oh", "ng/mL", "nmol/L"),
        ("ferritin", "ng/mL", "ug/L"),
        ("hba1c", "%", "mmol/mol"),
    ]
)


@given(units_by_analyte, st.floats(min_value=0.001, max_value=1e5, allow_nan=False))
def test_unit_round_trip_is_identity(case: tuple[str, str, str], value: float) -> None:
    """Converting there and back returns the original value."""
    analyte, a, b = case
    there = labinterp.convert(value, a, b, analyte=analyte)
    back = labinterp.convert(there, b, a, analyte=analyte)
    assert math.isclose(back, value, rel_tol=1e-12, abs_tol=1e-9)
