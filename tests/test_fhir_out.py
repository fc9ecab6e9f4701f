"""FHIR output that means what it says: code systems, eGFR, references, displays, NDJSON."""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

import labinterp
from labinterp.errors import LabinterpWarning
from labinterp.io.writers.fhir import to_fhir_json, to_fhir_ndjson, write_fhir_ndjson

EXAMPLES = Path(__file__).parent.parent / "examples"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
NPU = "urn:oid:1.2.208.176.2.1"
NLK = "urn:oid:2.16.578.1.12.4.1.1.7280"
LOINC = "http://loinc.org"


def _nordic(**kwargs: Any) -> pd.DataFrame:
    return labinterp.interpret(
        labinterp.read_csv(EXAMPLES / "nordic_export.csv"), profile="no", **kwargs
    )


def _bundle(frame: pd.DataFrame) -> dict[str, Any]:
    text = to_fhir_json(frame)
    Bundle.model_validate_json(text)
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def _codings(resource: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(c.get("system"), c["code"]) for c in resource["code"].get("coding", [])]


def test_npu_nlk_and_loinc_systems() -> None:
    """NPU codes get the NPU OID, NOR codes the NLK OID, with the catalogue's LOINC beside."""
    entries = _bundle(_nordic())["entry"]
    observations = [e["resource"] for e in entries if e["resource"]["resourceType"] != "Patient"]
    magnesium = observations[0]
    assert _codings(magnesium) == [(LOINC, "2601-3"), (NPU, "NPU02647")]
    reported_egfr = next(o for o in observations if (NLK, "NOR25909") in _codings(o))
    assert reported_egfr["valueQuantity"]["comparator"] == ">"
    # Every coding of a source code carries a system.
    assert all(s is not None for o in observations for s, _ in _codings(o))


def test_derived_egfr_loinc_derived_from_and_precision() -> None:
    """A derived eGFR is coded with its equation's LOINC, derived from its creatinine.

    62238-1 is CKD-EPI (2009), the Norwegian profile's equation; the value is written at
    the reporting precision (0 decimals).
    """
    frame = _nordic()
    bundle = _bundle(frame)
    entries = bundle["entry"]
    derived = [
        i
        for i, (status, analyte) in enumerate(zip(frame["status"], frame["analyte"], strict=True))
        if status == "derived" and analyte == "egfr"
    ]
    assert derived
    for i in derived:
        resource = entries[i]["resource"]
        assert frame.iloc[i]["equation"] == "egfr_ckd_epi_2009_cr"
        assert _codings(resource) == [(LOINC, "62238-1")]
        (source,) = resource["derivedFrom"]
        target = next(e for e in entries if e["fullUrl"] == source["reference"])
        assert target["resource"]["code"]["text"] == "P-Kreatinin"
        assert re.fullmatch(r"\d+", json.dumps(resource["valueQuantity"]["value"]))


def test_critical_displays_exact() -> None:
    """LL is displayed as the v3 code system says: "Critical low" (P003 magnesium 0.45)."""
    frame = _nordic()
    entries = _bundle(frame)["entry"]
    index = frame.index.get_indexer(frame.index[frame["flag"] == "LL"])[0]
    coding = entries[index]["resource"]["interpretation"][0]["coding"][0]
    assert (coding["system"], coding["code"], coding["display"]) == (V3, "LL", "Critical low")


def test_significant_change_u_and_d() -> None:
    """With history, a significant rise is coded U and a fall D beside the flag."""
    frame = pd.DataFrame(
        {
            "patient_id": ["A"] * 4,
            "sex": ["female"] * 4,
            "age_years": [50] * 4,
            "collected_at": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"],
            "source_name": ["Ferritin"] * 4,
            "raw_value": ["40", "200", "210", "30"],
            "raw_unit": ["ug/L"] * 4,
        }
    )
    out = labinterp.interpret(frame, profile="no", history=True)
    entries = _bundle(out)["entry"]
    changes = []
    for i, (significant, change) in enumerate(
        zip(out["significant_change"], out["change_abs"], strict=True)
    ):
        codes = [c["coding"][0]["code"] for c in entries[i]["resource"].get("interpretation", [])]
        if significant is not pd.NA and bool(significant):
            changes.append("U" if change > 0 else "D")
            assert codes[-1] == changes[-1]
        else:
            assert not {"U", "D"} & set(codes)
    assert "U" in changes and "D" in changes


def test_source_status_carried() -> None:
    """The source's status is Observation.status."""
    frame = labinterp.interpret(
        pd.DataFrame(
            {
                "source_name": ["Ferritin"] * 2,
                "raw_value": ["40", "41"],
                "raw_unit": ["ug/L"] * 2,
                "sex": ["female"] * 2,
                "age_years": [50] * 2,
                "source_status": ["preliminary", "amended"],
            }
        ),
        profile="no",
    )
    statuses = [e["resource"]["status"] for e in _bundle(frame)["entry"]]
    assert statuses == ["preliminary", "amended"]


# -- a validator's rules, written from the FHIR R4 specification ------------------------
# obs-3: referenceRange must have at least a low or a high or text.
# obs-6: dataAbsentReason SHALL only be present if Observation.value[x] is not present.
# obs-7: if code is the same as a component code then the value element associated with
#        the code SHALL NOT be present.
# qty-3: if a code for the unit is present, the system SHALL also be present.
# Reference resolution: Bundle.entry references resolve to an entry's fullUrl
# (https://hl7.org/fhir/R4/observation.html#invs, datatypes.html#Quantity,
# bundle.html#references).


def _wide() -> pd.DataFrame:
    with warnings.catch_warnings():
        # Its free-text comment column is named as not used; that is not what is tested.
        warnings.simplefilter("ignore", LabinterpWarning)
        return labinterp.read_csv(EXAMPLES / "nordic_wide.csv")


def _quantities(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "value" in node and "unit" in node:
            found.append(node)
        for value in node.values():
            found.extend(_quantities(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_quantities(value))
    return found


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return own + [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


def test_bundle_passes_the_invariants() -> None:
    """A Bundle from every example export passes obs-3/6/7, qty-3 and resolves references."""
    frames = [
        _nordic(history=True),
        labinterp.interpret(labinterp.read_csv(EXAMPLES / "us_export.csv"), profile="us"),
        labinterp.interpret(_wide(), profile="se"),
    ]
    for frame in frames:
        bundle = _bundle(frame)
        urls = {e["fullUrl"] for e in bundle["entry"]}
        for entry in bundle["entry"]:
            resource = entry["resource"]
            for reference in _references(resource):
                assert reference in urls
            for quantity in _quantities(resource):
                assert "code" not in quantity or quantity.get("system")
            if resource["resourceType"] != "Observation":
                continue
            for reference_range in resource.get("referenceRange", []):
                assert {"low", "high", "text"} & set(reference_range)
            has_value = any(k.startswith("value") for k in resource)
            assert not (has_value and "dataAbsentReason" in resource)
            component_codes = [c["code"] for c in resource.get("component", [])]
            assert not (resource["code"] in component_codes and has_value)


# -- NDJSON ---------------------------------------------------------------------------------


def test_to_fhir_ndjson_lines_are_resources() -> None:
    """Each line is one valid resource; Patients first, then one Observation per row."""
    frame = _nordic()
    lines = labinterp.to_fhir_ndjson(frame).splitlines()
    kinds = [json.loads(line)["resourceType"] for line in lines]
    patients = frame["patient_id"].nunique()
    assert kinds == ["Patient"] * patients + ["Observation"] * len(frame)
    ids = set()
    for line in lines:
        resource = json.loads(line)
        model = Patient if resource["resourceType"] == "Patient" else Observation
        model.model_validate_json(line)
        ids.add(f"{resource['resourceType']}/{resource['id']}")
    for line in lines:
        assert set(_references(json.loads(line))) <= ids


def test_write_fhir_ndjson_streams_batches(tmp_path: Path) -> None:
    """Batches go one at a time into Patient.ndjson and Observation.ndjson.

    A patient in two batches is written once; the single-file form holds the same resources.
    """
    frame = _nordic()
    first, second = frame.iloc[:8], frame.iloc[8:]
    consumed: list[int] = []

    def batches() -> Any:
        for batch in (first, second):
            consumed.append(len(batch))
            yield batch

    out = write_fhir_ndjson(batches(), tmp_path / "export")
    assert consumed == [len(first), len(second)]
    patients = (out / "Patient.ndjson").read_text(encoding="utf-8").splitlines()
    observations = (out / "Observation.ndjson").read_text(encoding="utf-8").splitlines()
    assert len(observations) == len(frame)
    ids = sorted(frame["patient_id"].dropna().unique())
    assert Counter(json.loads(p)["id"] for p in patients) == dict.fromkeys(ids, 1)
    single = write_fhir_ndjson([first, second], tmp_path / "all.ndjson")
    lines = single.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(patients) + len(observations)
    assert not list(tmp_path.glob(".*partial"))
    assert to_fhir_ndjson(frame).count("\n") == len(frame) + len(ids)


def test_documented_examples_are_valid() -> None:
    """The Bundle and NDJSON in docs/formats/fhir.md validate and their references resolve."""
    page = (Path(__file__).parent.parent / "docs" / "formats" / "fhir.md").read_text("utf-8")
    blocks = re.findall(r"```json\n(.*?)```", page, flags=re.DOTALL)
    bundle_text, ndjson_text = blocks[-2], blocks[-1]
    bundle = json.loads(bundle_text)
    Bundle.model_validate(bundle)
    urls = {e["fullUrl"] for e in bundle["entry"]}
    assert set(_references(bundle)) <= urls
    egfr = bundle["entry"][1]["resource"]
    assert _codings(egfr) == [(LOINC, "62238-1")] and egfr["valueQuantity"]["value"] == 74
    ids = set()
    for line in ndjson_text.splitlines():
        resource = json.loads(line)
        model = Patient if resource["resourceType"] == "Patient" else Observation
        model.model_validate(resource)
        ids.add(f"{resource['resourceType']}/{resource['id']}")
    for line in ndjson_text.splitlines():
        assert set(_references(json.loads(line))) <= ids


def test_kidney_assessments_are_observations_derived_from_egfr_and_acr() -> None:
    """P005's CKD prognosis is a valueCodeableConcept; it and the KFRE name eGFR and ACR."""
    frame = _nordic()
    entries = _bundle(frame)["entry"]
    by_url = {e["fullUrl"]: e["resource"] for e in entries}
    for i, analyte in enumerate(frame["analyte"]):
        if analyte not in ("ckd_risk", "kfre_5y"):
            continue
        resource = entries[i]["resource"]
        sources = [by_url[d["reference"]]["code"]["text"] for d in resource["derivedFrom"]]
        assert sources == ["eGFR (estimated glomerular filtration rate)", "U-Albumin/Kreatinin"]
        if analyte == "ckd_risk":
            assert resource["valueCodeableConcept"] == {"text": "very_high"}
            assert "valueQuantity" not in resource and resource["note"]
        else:
            assert resource["valueQuantity"]["code"] == "%"
