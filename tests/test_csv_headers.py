"""CSV column recognition: synonyms as data, the analyte's identity, the unused columns."""

from __future__ import annotations

import io
import unicodedata
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labinterp
from labinterp import catalogue, stream
from labinterp.errors import CatalogueError, LabinterpWarning, ReadError
from labinterp.io.readers.csv import HEADER_ALIASES
from labinterp.io.readers.csv_headers import check_columns, map_headers
from labinterp.models import ColumnField
from labinterp.steps.identify import (
    ANALYTE_NOT_KNOWN,
    CONFLICTING_ANALYTE,
    lookup_analyte,
    resolve_analyte,
)

FIELDS = catalogue.column_fields()
SYNONYMS = [(spec.field, synonym) for spec in FIELDS.values() for synonym in spec.synonyms]
#: A cell each field can read without a problem of its own.
CELLS = {"collected_at": "2026-01-15 08:10", "birth_date": "1958-04-12", "age_years": "54"}


def _read(text: str, **options: object) -> pd.DataFrame:
    return labinterp.read_csv(text.encode("utf-8"), **options)  # type: ignore[arg-type]


def _warnings_of(text: str, **options: object) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _read(text, **options)
    return [str(w.message) for w in caught if issubclass(w.category, LabinterpWarning)]


# -- the synonyms, as data ------------------------------------------------------------


@pytest.mark.parametrize(("field", "header"), SYNONYMS)
def test_every_synonym_fills_its_field(field: str, header: str) -> None:
    """Each header of columns.toml, as listed, fills its field (and nothing is left unused)."""
    other = "Analyse" if field == "raw_value" else "Resultat"
    frame = _read(f"{header};{other}\n{CELLS.get(field, '7')};x\n")  # a warning would fail
    assert field in frame.columns and (header == field or header not in frame.columns)


def test_the_synonyms_are_loaded_once_and_exported_as_header_aliases() -> None:
    """HEADER_ALIASES is the data file's synonyms, keyed by normalised header."""
    assert dict(HEADER_ALIASES) == dict(catalogue.header_synonyms())
    assert catalogue.column_fields() is catalogue.column_fields()
    assert HEADER_ALIASES[catalogue.header_key("Reference_Range")] == "lab_reference_text"
    names = {"ref_range", "Reference_Range", "normal range", "RefRange", "test_name"}
    assert {HEADER_ALIASES[catalogue.header_key(n)] for n in names} == {
        "lab_reference_text",
        "source_name",
    }


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        (["ref_range", "Reference_Range", "normal range", "RefRange", "Ref. range"],
         "lab_reference_text"),
        (["test_name", "Test Name", "Analysenavn", "Analysnamn", "Undersøgelse"], "source_name"),
        (["sampled_at", "specimen_collected", "prøvetidspunkt", "provtagningstid", "charttime"],
         "collected_at"),
        (["birth_year", "year_of_birth", "fødselsår", "födelseår", "Fødeår"], "birth_year"),
        (["result_value", "Prøvesvar", "Värde", "Værdi", "ord_value"], "raw_value"),
        (["units", "valueuom", "Enhed", "Måleenhet", "UOM"], "raw_unit"),
        (["abnormal", "abnormal_flag", "avvik", "markering", "flagg", "flag"], "lab_flag"),
        (["ref_range_lower", "Nedre grense", "Undre gräns", "Nedre grænse"], "lab_reference_low"),
        (["ref_range_upper", "Øvre grense", "Övre gräns", "Øvre grænse"], "lab_reference_high"),
        (["NPU-kode", "NPU-kod", "LOINC", "loinc_num", "itemid", "Analysekode"], "source_code"),
        (["Analyte", "Analytt", "Analyt"], "analyte"),
        (["Pasient-ID", "Personnummer", "CPR-nr.", "subject_id", "MRN"], "patient_id"),
        (["Kjønn", "Kön", "Køn", "Gender"], "sex"),
    ],
)  # fmt: skip
def test_synonym_families(headers: list[str], field: str) -> None:
    """English, Nordic and system-export spellings of one field all fill it."""
    for header in headers:
        assert map_headers([header]).fields == {header: field}, header


def _variant(data: st.DataObject, text: str) -> str:
    """Write ``text`` another way: casing, separators, diacritics, ø/æ for o/ae."""
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if text[i : i + 2] == "ae" and data.draw(st.booleans()):
            out.append(data.draw(st.sampled_from(["æ", "Æ"])))
            i += 2
            continue
        if char == "o":
            char = data.draw(st.sampled_from(["o", "O", "ø", "Ø", "ö", "ó"]))
        elif char == "a":
            char = data.draw(st.sampled_from(["a", "A", "å", "ä", "á"]))
        elif char.isalpha():
            char = data.draw(st.sampled_from([char.lower(), char.upper()]))
            if data.draw(st.booleans()):
                char += data.draw(st.sampled_from(["\u0301", "\u0308", "\u030a", "\u0303"]))
        out.append(char)
        out.append(data.draw(st.sampled_from(["", "", "", " ", "_", "-", ".", "\u2013", "  "])))
        i += 1
    variant = "".join(out)
    return unicodedata.normalize(data.draw(st.sampled_from(["NFC", "NFD"])), variant)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), pair=st.sampled_from(SYNONYMS))
def test_any_spelling_of_a_synonym_fills_the_same_field(
    data: st.DataObject, pair: tuple[str, str]
) -> None:
    """Case, spaces, underscores, hyphens, dots and diacritics do not change the field."""
    field, synonym = pair
    variant = _variant(data, synonym)
    assert catalogue.header_key(variant) == catalogue.header_key(synonym)
    assert map_headers([variant]).fields == {variant: field}


def test_header_key_reads_nordic_letters_as_documented() -> None:
    """ø is o, æ is ae, å/ä/ö lose their marks; oe and aa are not ø and å."""
    key = catalogue.header_key
    assert key("Kjønn") == key("KJONN") == "kjonn"
    assert key("Køn") == key("Kön") == "kon"
    assert key("Værdi") == "vaerdi" and key("Värde") == "varde"
    assert key("Prøve-tidspunkt") == key("provetidspunkt")
    assert key("Proevetidspunkt") != key("Prøvetidspunkt")
    assert key("Ref.\u00a0Range\u200b") == "refrange"


def test_a_header_claimed_by_two_fields_is_an_error() -> None:
    """Two fields listing the same header (once normalised) cannot be loaded."""
    fields = [
        ColumnField(field="raw_value", en=["result"]),
        ColumnField(field="lab_flag", sv=["Re-sult."]),
    ]
    with pytest.raises(CatalogueError, match="both raw_value and lab_flag"):
        catalogue.index_headers(fields)
    with pytest.raises(CatalogueError, match="no header"):
        catalogue.index_headers([ColumnField(field="raw_value", en=[" _-. "])])
    same_field = [ColumnField(field="sex", nb=["kjønn"], da=["Kjonn"])]
    assert catalogue.index_headers(same_field) == {"sex": "sex", "kjonn": "sex"}


# -- which column fills a field ------------------------------------------------------


def test_columns_mapping_comes_before_synonyms_and_exact_names_before_synonyms() -> None:
    """columns= wins even for a later column; a field's own name wins over a synonym."""
    found = map_headers(["Result", "Måling"], {"måling": "raw_value"})
    assert found.fields == {"Måling": "raw_value"} and found.unfilled == {"Result": "raw_value"}
    found = map_headers(["Result", "raw_value"])
    assert found.fields == {"raw_value": "raw_value"}
    assert found.unfilled == {"Result": "raw_value"}


def test_columns_naming_no_field_is_an_error_listing_the_fields() -> None:
    """A misspelt field in columns= is refused, naming the fields a column can fill."""
    with pytest.raises(ReadError, match=r"'raw_valeu'.*raw_value, raw_unit") as info:
        _read("Måling;Analyse\n5;CRP\n", columns={"Måling": "raw_valeu"})
    assert set(FIELDS) <= set(info.value.message.replace(",", " ").replace(".", " ").split())
    with pytest.raises(ReadError, match="empty header"):
        check_columns({" ": "raw_value"})


def test_a_column_named_as_a_field_beside_its_mapped_column_is_an_error() -> None:
    """Two columns cannot both become raw_value."""
    with pytest.raises(ReadError, match=r"line 1.*'raw_value' and 'Måling'"):
        _read("Måling;raw_value;Analyse\n5;6;CRP\n", columns={"Måling": "raw_value"})


# -- the warning ---------------------------------------------------------------------


def test_unused_columns_are_named_once_with_how_to_map_them() -> None:
    """One warning names each unused header in file order, and passes the columns through."""
    text = (
        "Analyse;Resultat;Enhet;Kommentar;Resultat2;Result;labevent_id\n"
        "S-Magnesium;0,82;mmol/L;SECRET-NOTE;0,83;0,84;P-4711\n"
        "S-Magnesium;0,92;mmol/L;;0,93;0,94;P-4712\n"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = _read(text)
    messages = [str(w.message) for w in caught if issubclass(w.category, LabinterpWarning)]
    assert len(messages) == 1
    message = messages[0]
    assert message.startswith(
        "4 input column(s) not used for interpretation (kept unchanged in the output): "
        "'Kommentar', 'Resultat2', 'Result' (raw_value is filled by 'Resultat'), "
        "'labevent_id'."
    )
    assert "columns={'<header>': '<field>'}" in message
    assert "--column '<header>=<field>'" in message
    assert "Fields: patient_id, sex, age_years" in message
    for value in ("SECRET-NOTE", "0,83", "0,84", "P-4711", "0,82"):
        assert value not in message
    assert frame["Kommentar"].tolist()[0] == "SECRET-NOTE"
    assert frame[["Resultat2", "Result", "labevent_id"]].iloc[1].tolist() == [
        "0,93",
        "0,94",
        "P-4712",
    ]


def test_no_warning_when_every_column_is_used_or_declared() -> None:
    """Fields and declared results-frame columns (carried through) are not named."""
    assert _warnings_of("Analyse;Resultat;Enhet;read_problem\nCRP;5;mg/L;\n") == []


def test_columns_headers_the_file_lacks_are_named() -> None:
    """A columns= header that is not in the file is said, not silently ignored."""
    (message,) = _warnings_of("Analyse;Resultat\nCRP;5\n", columns={"Prøvesvar": "raw_value"})
    assert "columns= names header(s) the file does not have: 'Prøvesvar'." in message


def test_wide_files_name_only_context_columns() -> None:
    """The result columns of a wide file are used; a comment column is named."""
    text = "Pasient-ID;P-Kreatinin (µmol/L);Kommentar\nS01;68;fastande\n"
    (message,) = _warnings_of(text)
    assert ": 'Kommentar'." in message and "Kreatinin" not in message


def test_a_file_read_in_batches_names_its_columns_once(tmp_path: Path) -> None:
    """iter_csv (the command line's streamed read) warns for the first batch only."""
    path = tmp_path / "export.csv"
    rows = "".join(f"P{i};S-Magnesium;0,8{i};mmol/L;note {i}\n" for i in range(9))
    path.write_text("patient_id;Analyse;Resultat;Enhet;Kommentar\n" + rows, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = [frame for frame, _ in stream.iter_csv(path, batch_lines=2)]
    assert len(batches) > 3
    assert [issubclass(w.category, LabinterpWarning) for w in caught] == [True]


def test_read_takes_columns_for_csv_and_refuses_csv_options_elsewhere() -> None:
    """labinterp.read passes columns= to the CSV reader; HL7 or FHIR input refuses it."""
    frame = labinterp.read(b"Analyse;M\xc3\xa5ling\nCRP;5\n", columns={"Måling": "raw_value"})
    assert frame.loc[0, "raw_value"] == "5"
    with pytest.raises(ReadError, match="columns= applies to CSV input only; this input is FHIR"):
        labinterp.read(b'{"resourceType": "Bundle"}', columns={"a": "raw_value"})
    with pytest.raises(ReadError, match=r"code_map= applies to CSV input only; .* HL7 v2"):
        labinterp.read(b"MSH|^~\\&|LAB\r", code_map={"1": "magnesium"})


# -- exports as labs write them --------------------------------------------------------


@pytest.mark.parametrize(
    "range_header", ["ref_range", "Reference_Range", "normal range", "RefRange"]
)
def test_us_export_uses_the_labs_range(range_header: str) -> None:
    """test_name/ref_range headers: the lab's 11-307 is used, so ferritin 8 ng/mL is L."""
    text = (
        f"patient_id,sex,age,specimen_collected,test_name,result_value,units,{range_header},"
        "abnormal_flag\n"
        "1001,F,45,2026-02-01 08:10,Ferritin,8,ng/mL,11-307,L\n"
    )
    out = labinterp.interpret(_read(text), profile="us")
    row = out.iloc[0]
    assert (row["analyte"], row["status"], row["flag"]) == ("ferritin", "ok", "L")
    assert row["reference_source"] == "lab"
    assert (row["reference_low"], row["reference_high"]) == (11.0, 307.0)
    assert row["lab_flag"] == "L" and row["collected_at"] == pd.Timestamp("2026-02-01 08:10")


def test_nordic_export_with_analyte_names_codes_and_birth_years() -> None:
    """An analyte column of lab names beside NPU codes is identified row by row."""
    text = (
        "Pasient-ID;Kjønn;Fødselsår;Prøvetidspunkt;NPU;Analyte;Resultat;Enhet;Avvik\n"
        "P1;K;1958;15.01.2026 08:10;NPU02647;Magnesium;0,62;mmol/L;L\n"
        "P1;K;1958;15.01.2026 08:10;NPU04998;Kreatinin;78;µmol/L;\n"
        "P1;K;1958;15.01.2026 08:10;;25-OH Vitamin D;48;nmol/L;\n"
        "P2;M;1990;16.01.2026 09:00;NPU19763;ferritin;40;µg/L;\n"
        "P2;M;1990;16.01.2026 09:00;NPU27300;HbA1c;44;mmol/mol;\n"
    )
    frame = _read(text)
    assert frame["birth_year"].astype(str).tolist() == ["1958"] * 3 + ["1990"] * 2
    assert frame["collected_at"].iloc[0] == pd.Timestamp("2026-01-15 08:10")
    out = labinterp.interpret(frame)
    read = out[out["status"] != "derived"]
    assert read["analyte"].astype(object).tolist() == [
        "magnesium",
        "creatinine",
        "vitamin_d_25oh",
        "ferritin",
        "hba1c",
    ]
    assert "unknown_analyte" not in set(read["status"])
    assert read["lab_flag"].tolist()[0] == "L"


def test_code_and_name_that_disagree_conflict_with_a_problem() -> None:
    """A magnesium NPU code beside the name Kreatinin: conflicting_analyte, nothing picked."""
    text = (
        "NPU;Analyte;Analyse;Resultat;Enhet\n"
        "NPU02647;Kreatinin;;0,8;mmol/L\n"
        "NPU02647;;P-Kreatinin;0,8;mmol/L\n"
        ";magnesium;P-Kreatinin;0,8;mmol/L\n"
        "NPU02647;Blodsukker etter middag;;0,8;mmol/L\n"
        "NPU02647;;Blodsukker etter middag;0,8;mmol/L\n"
    )
    out = labinterp.interpret(_read(text))
    assert out["status"].tolist()[:4] == ["conflicting_analyte"] * 3 + ["unknown_analyte"]
    assert out["problem"].tolist()[:4] == [CONFLICTING_ANALYTE] * 3 + [ANALYTE_NOT_KNOWN]
    assert out["analyte"].iloc[:4].isna().all()
    assert out["analyte"].iloc[4] == "magnesium"  # an unknown name beside a known code


# -- resolving one result (both paths share resolve_analyte) ---------------------------

IDENTITIES = [
    (spec.key, text)
    for spec in catalogue.analytes().values()
    for text in (spec.key, *spec.codes, *spec.aliases, *spec.display.values())
]


@settings(max_examples=200, deadline=None)
@given(
    first=st.sampled_from(IDENTITIES),
    second=st.sampled_from(IDENTITIES),
    slots=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_resolution_is_the_one_analyte_named_or_a_conflict(
    first: tuple[str, str], second: tuple[str, str], slots: tuple[bool, bool, bool]
) -> None:
    """Keys, codes and names resolve to their analyte; two different ones never pick."""
    key, text = first
    assert lookup_analyte(text) == key
    other_key, other = second
    code = other if other in catalogue.analytes()[other_key].codes else None
    given_key, given_code, given_name = (
        text if slots[0] else None,
        code if slots[1] else None,
        other if slots[2] else None,
    )
    found = resolve_analyte(given_key, given_code, given_name)
    named = {key} if given_key else set()
    named |= {other_key} if given_code or given_name else set()
    if len(named) > 1:
        assert found == (None, "conflicting_analyte", CONFLICTING_ANALYTE)
    elif named:
        # A race-adjusted eGFR keeps its analyte and says why it is not interpreted.
        race = {t for spec in catalogue.analytes().values() for t in spec.race_adjusted}
        adjusted = bool({given_key, given_code, given_name} & race)
        assert found.analyte == named.pop()
        assert found.reason == ("race_adjusted" if adjusted else None)
    else:
        assert found.analyte is None and found.reason == "unknown_analyte"


def test_the_single_path_records_the_reason_resolve_analyte_gives() -> None:
    """interpret_panel reads an unknown analyte as the frame path reads the same code and name."""
    (finding,) = labinterp.interpret_panel(
        [{"analyte": "Blodsukker etter middag", "value": "5", "unit": "mmol/L"}]
    )
    frame = pd.DataFrame(
        {
            "source_code": ["Blodsukker etter middag"],
            "source_name": ["Blodsukker etter middag"],
            "raw_value": ["5"],
            "raw_unit": ["mmol/L"],
        }
    )
    row = labinterp.interpret(frame).iloc[0]
    assert (finding.status.value, finding.problem) == (row["status"], row["problem"])


def test_problem_sentences_are_in_the_text_catalogue() -> None:
    """The English entries are the constants; Norwegian and Swedish have their own."""
    for key, sentence in (
        ("problem.analyte_not_known", ANALYTE_NOT_KNOWN),
        ("problem.conflicting_analyte", CONFLICTING_ANALYTE),
    ):
        for audience in ("patient", "clinician"):
            assert catalogue.text_catalogue("en")[f"{key}.{audience}"].text == sentence
            for lang in ("nb", "sv"):
                translated = catalogue.text_catalogue(lang)[f"{key}.{audience}"].text
                assert translated and translated != sentence


def test_a_frame_column_that_looks_like_a_missing_field_is_named_not_silently_ignored() -> None:
    """A frame's `unit` beside no `raw_unit` is not read; interpret() says so, once, by name."""
    frame = pd.DataFrame(
        {"analyte": ["magnesium"], "raw_value": ["0.80"], "unit": ["mmol/L"], "Note": ["x"]}
    )
    with pytest.warns(LabinterpWarning, match=r"'unit' \(as raw_unit\)") as caught:
        out = labinterp.interpret(frame)
    assert len(caught) == 1
    assert "0.80" not in str(caught[0].message)  # names columns, never values
    assert out["status"].iloc[0] == "unknown_unit"  # not guessed from the unread column
    assert out["unit"].isna().iloc[0] or out["unit"].iloc[0] in ("", None)


def test_a_frame_with_its_fields_named_gets_no_such_warning() -> None:
    frame = pd.DataFrame(
        {"analyte": ["magnesium"], "raw_value": ["0.80"], "raw_unit": ["mmol/L"], "uom": ["x"]}
    )
    out = labinterp.interpret(frame)  # filterwarnings = error: any warning fails
    assert out["unit"].iloc[0] == "mmol/L" and out["status"].iloc[0] != "unknown_unit"


def test_interpreting_an_interpreted_frame_again_names_no_column() -> None:
    """Its reference_low is the range labinterp used, not a lab's: no rename is suggested."""
    frame = pd.DataFrame(
        {"analyte": ["magnesium"], "raw_value": ["0.80"], "raw_unit": ["mmol/L"],
         "sex": ["female"], "age_years": [40]}
    )  # fmt: skip
    once = labinterp.interpret(frame)
    twice = labinterp.interpret(once)  # filterwarnings = error: any warning fails
    assert twice["flag"].tolist() == once["flag"].tolist()


def test_a_column_named_like_an_output_column_is_said_to_be_replaced() -> None:
    """A lab's own `status` column would be lost under interpret()'s status: both calls say so."""
    text = "analyte;raw_value;raw_unit;status;sex;age_years\nmagnesium;0,80;mmol/L;final;K;40\n"
    with pytest.warns(LabinterpWarning, match=r"'status' \(interpret\(\) replaces it"):
        frame = labinterp.read_csv(io.StringIO(text))
    with pytest.warns(LabinterpWarning, match=r"replaces them in the output: 'status'") as seen:
        labinterp.interpret(frame)
    assert "final" not in str(seen[0].message)  # names columns, never values
