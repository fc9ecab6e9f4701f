import ast
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import labinterp
from labinterp import ucum
from labinterp.equations import eag_from_hba1c, hba1c_ifcc_to_ngsp, hba1c_ngsp_to_ifcc
from labinterp.errors import IncompatibleUnitError, UnitError, UnitsRequiredError, UnknownUnitError
from labinterp.units import QUANTITY_UNIT_CONFLICT, normalise_unit, ureg

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


# UCUM codes as FHIR valueQuantity.code and HL7 OBX-6 send them for the target analytes,
# with where each was seen: Synthea R4 bundles and FHIR f205 (tests/data/fhir), the
# Winpath and NIST HL7 messages (tests/data/hl7), the UCUM_EX column of the NLM flowsheet
# LOINC extract (shared samples, code-lists) and the codes named in issue 19.
UCUM_CODES = [
    # code, analyte, value, to_unit, expected, seen in
    ("%{HbA1c}", "hba1c", 6.5, "mmol/mol", 47.53, "issue 19 (NGSP percent)"),
    ("mmol/mol{Hb}", "hba1c", 48, "%", 6.54, "issue 19 (IFCC unit)"),
    ("%", "hba1c", 6.5, "mmol/mol", 47.53, "Synthea 4548-4; NLM UCUM_EX 4548-4"),
    ("mL/min/{1.73_m2}", "egfr", 60, "mL/min/1.73m2", 60, "FHIR f205; Synthea 33914-3"),
    ("mg/dL", "creatinine", 1.0, "umol/L", 88.4, "US Core 2160-0; Synthea 38483-4"),
    ("umol/l", "creatinine", 88.4, "mg/dL", 1.0, "NLM UCUM_EX 14682-9"),
    ("ng/mL", "ferritin", 37, "ug/L", 37, "NLM UCUM_EX 2276-4"),
    ("ng/mL", "vitamin_d_25oh", 20, "nmol/L", 49.92, "NLM UCUM_EX 1989-3"),
    ("g/dL", "albumin", 3.8, "g/L", 38, "Synthea 1751-7"),
    ("g/dL", "hemoglobin", 14.0, "g/L", 140, "Synthea 718-7"),
    ("g/L", "albumin", 38, "g/L", 38, "Winpath ALB"),
    ("mmol/L", "magnesium", 0.8, "mg/dL", 1.94, "Winpath MG"),
    ("pmol/L", "ferritin", 224.7, "ug/L", 100.0, "issue 19 (ferritin in pmol/L)"),
    ("nmol/L", "cystatin_c", 74.9, "mg/L", 1.0, "issue 19 (cystatin C in nmol/L)"),
    ("mmol/L", "hemoglobin", 7.3, "g/L", 117.6, "issue 19 (Danish haemoglobin)"),
]


@pytest.mark.parametrize(
    ("code", "analyte", "value", "to_unit", "expected", "seen"),
    UCUM_CODES,
    ids=[f"{c[0]}:{c[1]}" for c in UCUM_CODES],
)
def test_ucum_codes_of_the_target_analytes(
    code: str, analyte: str, value: float, to_unit: str, expected: float, seen: str
) -> None:
    """Each UCUM code the samples send for a target analyte converts to its reporting unit."""
    got = labinterp.convert(value, code, to_unit, analyte=analyte)
    assert round(got, _decimals(str(expected))) == expected, seen


@pytest.mark.parametrize(
    ("code", "display"),
    [
        ("%{HbA1c}", "%"),
        ("mmol/mol{Hb}", "mmol/mol"),
        ("mmol/mol{hb}", "mmol/mol"),
        ("10*9/L", "10^9/L"),
        ("10^9/L", "10^9/L"),
        ("x10^9/L", "10^9/L"),
        ("10*3/uL", "10^3/µL"),
        ("[IU]/L", "IU/L"),
        ("m[IU]/mL", "mIU/mL"),
        ("iU/mL", "IU/mL"),
        ("U/L", "U/L"),
        ("mm[Hg]", "mm[Hg]"),
        ("Cel", "Cel"),
        ("mL/min/{1.73_m2}", "mL/min/1.73m²"),
        ("mmol\u2215L", "mmol/L"),
    ],
)
def test_ucum_codes_are_recognised(code: str, display: str) -> None:
    """UCUM codes are read by the UCUM grammar; shown as the alias table spells the unit."""
    assert normalise_unit(code).display == display


def test_counts_and_international_units_convert_only_to_their_own_kind() -> None:
    """10*9/L is a count per litre, [IU]/L an arbitrary unit of its own: never each other."""
    assert labinterp.convert(5.0, "10*9/L", "10*3/uL") == pytest.approx(5.0)
    assert labinterp.convert(5.0, "[IU]/L", "m[IU]/mL") == pytest.approx(5.0)
    with pytest.raises(IncompatibleUnitError):
        labinterp.convert(5.0, "[IU]/L", "10*9/L")
    with pytest.raises(IncompatibleUnitError):
        labinterp.convert(5.0, "[IU]", "%")


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("mmol/mol{creat}", ucum.ANNOTATION_PROBLEM),  # per mol creatinine: another quantity
        ("ug/g{creat}", ucum.ANNOTATION_PROBLEM),
        ("{score}", ucum.ANNOTATION_PROBLEM),  # an annotation alone names no unit
        ("10*3{RBCs}/uL", ucum.ANNOTATION_PROBLEM),
        ("mL/{1.73_m2}/min", ucum.ANNOTATION_PROBLEM),  # per-area only as the last component
        ("mL/min{1.73_m2}", ucum.ANNOTATION_PROBLEM),
        ("{HbA1c}", ucum.ANNOTATION_PROBLEM),  # a label with no unit to name
        ("10.L/min", ucum.FACTOR_PROBLEM),
        ("meq/(24.h)", ucum.FACTOR_PROBLEM),
        ("[pH]", ucum.UNDEFINED_PROBLEM),  # valid UCUM, never read by pint as picohenry
        ("[CFU]/mL", ucum.UNDEFINED_PROBLEM),
    ],
)
def test_ucum_codes_labinterp_cannot_use_are_refused_with_their_problem(
    code: str, problem: str
) -> None:
    """An annotation that may change the meaning is never dropped: the unit is refused."""
    with pytest.raises(UnknownUnitError) as caught:
        normalise_unit(code)
    assert caught.value.message == problem


def test_egfr_per_body_surface_and_absolute_clearance_stay_apart() -> None:
    """mL/min/{1.73_m2} is an eGFR; mL/min (an absolute clearance) does not convert to it."""
    assert labinterp.convert(72.8, "mL/min/{1.73_m2}", "mL/min/1.73m2", analyte="egfr") == 72.8
    with pytest.raises(IncompatibleUnitError):
        labinterp.convert(72.8, "mL/min", "mL/min/1.73m2", analyte="egfr")


label_codes = st.sampled_from(["%", "mmol/mol", "g/dL", "mmol/L", "umol/L", "ng/mL", "10*9/L"])
labels = st.sampled_from(
    [a for a, known in ucum.known_annotations().items() if known.means == "label"]
)


@given(label_codes, labels, st.sampled_from([str, str.upper, str.lower]))
def test_a_label_annotation_never_changes_the_unit(code: str, label: str, case) -> None:
    """A label ({HbA1c}, {Hb}) after a unit leaves the unit it follows as it was."""
    labelled = normalise_unit(f"{code}{{{case(label)}}}")
    assert ureg.parse_units(labelled.pint) == ureg.parse_units(normalise_unit(code).pint)


@pytest.mark.parametrize(
    "code",
    ["%{HbA1c}", "mmol/mol{Hb}", "10*9/L", "[IU]/L", "mL/min/{1.73_m2}", "mm[Hg]", "mosm/kg"],
)
def test_a_normalised_unit_reads_back_as_the_same_unit(code: str) -> None:
    """The display and pint forms written to the frame are read back as the same unit."""
    unit = normalise_unit(code)
    for written in (unit.display, unit.pint):
        assert ureg.parse_units(normalise_unit(written).pint) == ureg.parse_units(unit.pint)


def test_convert_uses_a_quantitys_own_unit() -> None:
    """A pint Quantity is converted from its own unit; the result is a Quantity in to_unit."""
    creatinine = 88.4 * ureg("umol/L")
    got = labinterp.convert(creatinine, None, "mg/dL", analyte="creatinine")
    assert isinstance(got, ureg.Quantity)
    assert got.units == ureg.parse_units("mg/dL")
    assert got.magnitude == pytest.approx(1.0, rel=1e-4)
    same = labinterp.convert(creatinine, "µmol/L", "mg/dL", analyte="creatinine")
    assert same.magnitude == got.magnitude
    array = labinterp.convert(np.array([1.0, 2.0]) * ureg("g/dL"), None, "g/L")
    assert array.magnitude.tolist() == pytest.approx([10.0, 20.0])


def test_convert_refuses_a_quantity_whose_unit_is_not_from_unit() -> None:
    """88.4 µmol/L given with from_unit mg/dL is refused, not read as 88.4 mg/dL (7814.7)."""
    with pytest.raises(UnitError) as caught:
        labinterp.convert(88.4 * ureg("umol/L"), "mg/dL", "umol/L", analyte="creatinine")
    assert caught.value.message == QUANTITY_UNIT_CONFLICT
    assert "88" not in str(caught.value)
    assert isinstance(caught.value, labinterp.LabinterpError)


def test_convert_reads_a_quantity_of_another_registry() -> None:
    """A Quantity of the caller's own pint registry is read by its unit's name."""
    import pint

    theirs = pint.UnitRegistry()
    got = labinterp.convert(1.0 * theirs("mg/dL"), None, "umol/L", analyte="creatinine")
    assert got.magnitude == pytest.approx(88.4, rel=1e-3)


def test_convert_needs_a_unit_for_plain_numbers() -> None:
    """from_unit=None is only for a Quantity, which carries its unit."""
    with pytest.raises(UnitsRequiredError):
        labinterp.convert(1.0, None, "umol/L", analyte="creatinine")  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("spelling", "display"),
    [("mg/g{creat}", "mg/g"), ("mg/mmol{creat}", "mg/mmol"), ("10E-3", "mg/g"), ("g/mol", "g/mol")],
)
def test_acr_units_as_labs_send_them(spelling: str, display: str) -> None:
    """The urine ACR units as FHIR sends them and Danish labs print them (10E-3 = mg/g)."""
    assert labinterp.units.normalise_unit(spelling).display == display


def test_acr_mg_mmol_to_mg_g_uses_creatinine_molar_mass() -> None:
    """1 mg/mmol = 1000 / 113.12 mg/g (KDIGO2012 Table 6 footnote: mg/g x 0.113 = mg/mmol)."""
    assert labinterp.convert(1.0, "mg/mmol", "mg/g", analyte="acr") == pytest.approx(
        1000 / 113.12, rel=1e-12
    )
    assert labinterp.convert(1.0, "mg/g", "mg/mmol", analyte="acr") == pytest.approx(
        0.11312, rel=1e-12
    )
    with pytest.raises(IncompatibleUnitError):
        labinterp.convert(12.0, "mg/L", "mg/mmol", analyte="acr")


@pytest.mark.parametrize("analyte", ["alt", "ast", "ggt", "alp", "ck"])
def test_an_enzymes_iu_per_l_is_u_per_l(analyte: str) -> None:
    """US labs print enzyme activity as IU/L: the enzyme unit (1 µmol/min, IUPAC), i.e. U/L.

    Only for enzymes: elsewhere IU is an arbitrary unit that converts to nothing.
    """
    assert labinterp.convert(40.0, "IU/L", "U/L", analyte=analyte) == 40.0
    assert labinterp.convert(60.0, "IU/L", "ukat/L", analyte=analyte) == pytest.approx(1.0)
    with pytest.raises(IncompatibleUnitError):
        labinterp.convert(40.0, "IU/L", "U/L")
