"""HL7 v2 reader: public sample messages, framing, escapes, errors, and the path to interpret."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labinterp
from labinterp.errors import ReadError
from labinterp.io.readers.hl7 import HL7_COLUMNS, parse_hl7, read_hl7

HL7_DATA = Path(__file__).parent / "data" / "hl7"

#: A small synthetic message (no real patient): header, patient, order, two results.
MSH = "MSH|^~\\&|LAB|SITE|EHR|SITE|20240105083000||ORU^R01^ORU_R01|CTRL-1|P|2.5.1"
SEGMENTS = [
    MSH,
    "PID|1||TEST-1^^^SITE^MR||Doe^Jane||19700102|F",
    "OBR|1|ORD-1^EHR|FIL-1^LAB|2601-3^Magnesium^LN|||202401050810",
    "OBX|1|NM|2601-3^Magnesium^LN||0.82|mmol/L|0.71-0.94|N|||F",
    "OBX|2|NM|2160-0^Creatinine^LN||1.4|mg/dL|0.6-1.2|H|||F",
]


def message(*segments: str, end: str = "\r") -> str:
    """Join segments into one message with the given segment end."""
    return end.join(segments) + end


def obx_message(obx: str, *, header: str = MSH) -> str:
    """Build a message with a header, an order and the given OBX segment."""
    return message(header, "OBR|1|ORD-1||X^Test|||202401050810", obx)


def read_sample(name: str) -> pd.DataFrame:
    return read_hl7(HL7_DATA / name)


# -- every sample file ----------------------------------------------------------------

SAMPLE_ROWS = {
    "ghh_lab_oru_r01_glucose.hl7": 2,
    "athena-health_oru-example.hl7": 0,
    "cerner_cerner_lead.hl7": 1,
    "nist_ORU_R01_2.5.1_SampleTestCase1.hl7": 1,
    "nist_ORU_R01_2.5.1_SampleTestCase2.hl7": 1,
    "nist_ORU_R01_2.5.1_SampleTestCase3.hl7": 1,
    "nist_ORU_R01_2.5.1_SampleTestCase4.hl7": 1,
    "nist_ORU_R01_2.5.1_SampleTestCase5.hl7": 1,
    "nist_ORU_R01_2.5.1_SampleTestCase6.hl7": 3,
    "abl90_flex_unit.txt": 4,
    "bio_connect_normal_flag.txt": 1,
    "winpath_Incremental.txt": 8,
    "winpath_LabDuplicateResultSegment.txt": 11,
    "winpath_ORU_R01.txt": 5,
    "winpath_incremental_orders_05_oru_r01.txt": 2,
    "winpath_oru_ro1_numeric.txt": 11,
}


def test_every_sample_file_is_covered() -> None:
    """The row-count table names exactly the sample files in tests/data/hl7."""
    on_disk = {p.name for p in HL7_DATA.iterdir() if p.suffix in {".hl7", ".txt"}}
    assert on_disk == set(SAMPLE_ROWS)


@pytest.mark.parametrize(("name", "rows"), sorted(SAMPLE_ROWS.items()))
def test_one_row_per_obx_segment(name: str, rows: int) -> None:
    """Each sample gives one row per OBX segment, numbered 1..n in file order."""
    frame = read_sample(name)
    assert len(frame) == rows
    assert frame["source_row"].tolist() == list(range(1, rows + 1))
    assert list(frame.columns) == list(HL7_COLUMNS)


def test_python_hl7_glucose_sn_and_fn() -> None:
    """The HL7 standard glucose sample: SN ^182 reads 182; the FN copy keeps ^182 as written."""
    frame = read_sample("ghh_lab_oru_r01_glucose.hl7")
    first, second = frame.iloc[0], frame.iloc[1]
    assert (first["value_type"], first["raw_value"]) == ("SN", "182")
    assert (second["value_type"], second["raw_value"]) == ("FN", "^182")
    assert first["source_code"] == "1554-5"
    assert first["source_name"] == "GLUCOSE"
    assert first["raw_unit"] == "mg/dl"
    assert first["lab_reference_text"] == "70_105"
    assert first["lab_flag"] == "H"
    assert first["birth_date"] == "196203520"
    assert first["patient_id"] == "555-44-4444"
    assert first["collected_at"] == "200202150730"
    assert first["order_id"] == "845439"
    assert first["message_control_id"] == "CNTRL-3456"


def test_nist_case1_lead() -> None:
    """NIST case 1: LOINC lead, UCUM unit triplet reduced to its identifier, free-text range."""
    row = read_sample("nist_ORU_R01_2.5.1_SampleTestCase1.hl7").iloc[0]
    assert row["source_code"] == "10368-9"
    assert row["source_code_system"] == "LN"
    assert row["source_name"] == "Lead BldC-mCnc"
    assert row["raw_value"] == "50"
    assert row["raw_unit"] == "ug/dL"
    assert row["lab_reference_text"] == "<9 mcg/dL:  Acceptable background lead exposure"
    assert row["lab_flag"] == "H"
    assert row["result_status"] == "F"
    assert not row["corrected"]
    assert row["patient_id"] == "9817566735"
    assert (row["sex"], row["birth_date"]) == ("M", "20070526")
    assert row["collected_at"] == "200808151030-0700"
    assert row["order_id"] == "9700123"  # OBR-2 is empty, so the filler number OBR-3
    assert row["message_control_id"] == "NIST-100929110701660"


def test_nist_case2_has_its_own_control_id() -> None:
    """NIST case 2 (OBR-31 repeats) reads the same result under its own message id."""
    row = read_sample("nist_ORU_R01_2.5.1_SampleTestCase2.hl7").iloc[0]
    assert (row["raw_value"], row["raw_unit"]) == ("50", "ug/dL")
    assert row["message_control_id"] == "NIST-100929110745131"


def test_nist_case3_is_corrected() -> None:
    """NIST case 3 is a corrected result: OBX-11 C sets corrected."""
    row = read_sample("nist_ORU_R01_2.5.1_SampleTestCase3.hl7").iloc[0]
    assert row["result_status"] == "C"
    assert bool(row["corrected"]) is True
    assert (row["raw_value"], row["raw_unit"]) == ("25", "ug/dl")
    assert row["lab_reference_text"] == "<10 ug/dl"


def test_nist_case4_text_result() -> None:
    """NIST case 4: an ST result is kept as text and has no unit or range."""
    row = read_sample("nist_ORU_R01_2.5.1_SampleTestCase4.hl7").iloc[0]
    assert (row["value_type"], row["raw_value"]) == ("ST", "Isolated")
    assert pd.isna(row["raw_unit"])
    assert pd.isna(row["lab_reference_text"])
    assert (row["sex"], row["birth_date"]) == ("F", "19860930")


def test_nist_case5_viral_load() -> None:
    """NIST case 5: HCV RNA with a free-text range."""
    row = read_sample("nist_ORU_R01_2.5.1_SampleTestCase5.hl7").iloc[0]
    assert (row["raw_value"], row["raw_unit"]) == ("850000", "iU/mL")
    assert row["lab_reference_text"] == "High Viral Load > or = 850000iU/mL"
    assert row["source_code"] == "10676-5"


def test_nist_case6_three_results_share_set_id() -> None:
    """NIST case 6: three OBX with OBX-1 = 1 stay three rows in order."""
    frame = read_sample("nist_ORU_R01_2.5.1_SampleTestCase6.hl7")
    assert frame["obx_set_id"].tolist() == ["1", "1", "1"]
    assert frame["source_code"].tolist() == ["6331-3", "20995-1", "17576-0"]
    assert frame["raw_value"].tolist() == ["Isolated", "Isolated", "Not Isolated"]


def test_cerner_structured_range_and_final_lf() -> None:
    """Cerner lead: CR segments ending in LF; OBX-7 ^^10.000000 is kept as written."""
    row = read_sample("cerner_cerner_lead.hl7").iloc[0]
    assert row["lab_reference_text"] == "^^10.000000"
    assert (row["raw_value"], row["raw_unit"]) == ("50", "ug/dL")
    assert row["patient_id"] == "9339683996"
    assert row["birth_date"] == "20050715050000"
    assert row["collected_at"] == "201011041640"
    assert row["order_id"] == "2010273000015"
    assert row["result_status"] == "F"


def test_message_without_obx_gives_empty_frame_with_columns() -> None:
    """The athena message has no OBX: no rows, all glossary columns present."""
    frame = read_sample("athena-health_oru-example.hl7")
    assert frame.empty
    assert list(frame.columns) == list(HL7_COLUMNS)
    assert frame["source_row"].dtype == "int64"


def test_uclh_magnesium_and_escaped_name() -> None:
    r"""UCLH orders_05: Magnesium 0.83 mmol/L 0.60-1.00, and \T\ decodes to &."""
    frame = read_sample("winpath_incremental_orders_05_oru_r01.txt")
    mg, phoned = frame.iloc[0], frame.iloc[1]
    assert (mg["source_code"], mg["source_name"], mg["source_code_system"]) == (
        "MG",
        "Magnesium",
        "Winpath",
    )
    assert (mg["raw_value"], mg["raw_unit"], mg["lab_reference_text"]) == (
        "0.83",
        "mmol/L",
        "0.60-1.00",
    )
    assert mg["collected_at"] == "20130728082700"
    assert (mg["sex"], mg["birth_date"], mg["patient_id"]) == ("F", "19890909", "40800000")
    assert mg["order_id"] == "91393667"
    assert phoned["source_name"] == "Date & time phoned/faxed"
    assert (phoned["value_type"], phoned["raw_value"]) == ("FT", "Previously known low result.")
    assert phoned["order_id"] == "12121212"


def test_uclh_numeric_edge_values() -> None:
    """UCLH numeric file: <7, >7 and ?7 are kept as written and the empty value is missing."""
    frame = read_sample("winpath_oru_ro1_numeric.txt").set_index("source_code")
    assert frame.loc["<VAL", "raw_value"] == "<7"
    assert frame.loc[">VAL", "raw_value"] == ">7"
    assert frame.loc["UNKONWN_OPERATOR", "raw_value"] == "?7"
    assert pd.isna(frame.loc["EMPTY", "raw_value"])
    assert frame.loc["EMPTY", "raw_unit"] == "ng/mL"
    assert frame.loc["UNPARSABLE_RANGE", "lab_reference_text"] == "0-2-7.2"
    assert frame.loc["GREATER_AND_HIGH", "lab_reference_text"] == ">2-7.2"
    assert frame.loc["VB12", "lab_flag"] == "H"
    assert frame.loc["SFOL", "raw_value"] == "17.6"


def test_uclh_two_order_groups() -> None:
    """UCLH ORU_R01: results take the order of their own OBR group."""
    frame = read_sample("winpath_ORU_R01.txt")
    assert frame["order_id"].tolist() == ["12121212"] * 4 + ["12121213"]
    assert frame["source_code"].tolist() == ["ALP", "ALB", "GRE", "ALBR", "FE"]
    assert frame.loc[4, ["raw_value", "raw_unit", "lab_reference_text"]].tolist() == [
        "21.6",
        "umol/L",
        "6.6-26.0",
    ]


def test_uclh_duplicate_results_across_two_messages() -> None:
    """UCLH duplicates: both messages are read, duplicate codes are kept, ids differ."""
    frame = read_sample("winpath_LabDuplicateResultSegment.txt")
    assert frame["message_control_id"].value_counts().to_dict() == {
        "04220426333333330": 5,
        "04220625333333330": 6,
    }
    assert (frame["source_code"] == "ALP").sum() == 4
    assert frame.loc[9, ["source_code", "raw_value"]].tolist() == ["ALP", "110"]
    assert frame.loc[7, ["source_code", "lab_flag"]].tolist() == ["ALT", "H"]
    assert frame["obx_set_id"].tolist()[5:] == ["1", "2", "3", "4", "5", "6"]


def test_uclh_escaped_unit() -> None:
    r"""UCLH Incremental: units x10\S\9/L and x10\S\12/L decode to x10^9/L and x10^12/L."""
    frame = read_sample("winpath_Incremental.txt").set_index("source_row")
    assert frame.loc[5, ["source_code", "raw_value", "raw_unit"]].tolist() == [
        "WCC",
        "10.04",
        "x10^9/L",
    ]
    assert frame.loc[6, "raw_unit"] == "x10^12/L"
    assert frame.loc[4, "raw_value"] == "12.7"  # the later message's RDW
    assert pd.isna(frame.loc[1, "sex"])  # PID without sex


def test_uclh_point_of_care_strings() -> None:
    """ABL90 (ORU^R30): numbers sent as ST and the value '....' are kept as written."""
    frame = read_sample("abl90_flex_unit.txt")
    assert frame["raw_value"].tolist() == ["7.415", "5.82", "3.68", "...."]
    assert frame["value_type"].tolist() == ["ST"] * 4
    assert frame["lab_flag"].tolist() == ["N", "N", "L", "L"]
    assert frame.loc[1, "raw_unit"] == "kPa"
    assert frame.loc[0, "collected_at"] == "20130211100052"


def test_uclh_wrong_result_status() -> None:
    """Bio-Connect glucose: OBX-11 W is kept and is not a correction."""
    row = read_sample("bio_connect_normal_flag.txt").iloc[0]
    assert (row["result_status"], bool(row["corrected"])) == ("W", False)
    assert (row["raw_value"], row["raw_unit"], row["lab_reference_text"]) == (
        "5.6",
        "mmol/L",
        "4.0-7.0",
    )
    assert (row["source_code"], row["source_name"], row["lab_flag"]) == ("2341-6", "Glu", "N")
    assert row["order_id"] == "9876543"


# -- framing, line ends, several messages ---------------------------------------------


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
def test_segment_ends(end: str) -> None:
    """CR, LF and CRLF segment ends read the same two results."""
    frame = parse_hl7(message(*SEGMENTS, end=end))
    assert frame["raw_value"].tolist() == ["0.82", "1.4"]
    assert frame["raw_unit"].tolist() == ["mmol/L", "mg/dL"]


def test_mixed_segment_ends() -> None:
    """A message mixing CR, LF and CRLF reads every segment."""
    text = SEGMENTS[0] + "\r" + SEGMENTS[1] + "\n" + SEGMENTS[2] + "\r\n" + SEGMENTS[3] + "\n"
    text += SEGMENTS[4]
    frame = parse_hl7(text)
    assert frame["source_code"].tolist() == ["2601-3", "2160-0"]
    assert frame.loc[0, "patient_id"] == "TEST-1"


def test_mllp_framing() -> None:
    """Two MLLP frames (0x0B ... 0x1C 0x0D) read as two messages."""
    second = message(*SEGMENTS).replace("CTRL-1", "CTRL-2").encode()
    data = b"\x0b" + message(*SEGMENTS).encode() + b"\x1c\r" + b"\x0b" + second + b"\x1c\r"
    frame = parse_hl7(data)
    assert frame["message_control_id"].tolist() == ["CTRL-1", "CTRL-1", "CTRL-2", "CTRL-2"]
    assert frame["source_row"].tolist() == [1, 2, 3, 4]


def test_two_messages_back_to_back() -> None:
    """A second MSH directly after the first message starts a new message with its context."""
    other = [
        MSH.replace("CTRL-1", "CTRL-2"),
        "PID|1||TEST-2||Roe^Rick||19600101|M",
        "OBR|1|ORD-2|||||202402010900",
        "OBX|1|NM|2601-3^Magnesium^LN||0.70|mmol/L|0.71-0.94|L|||F",
    ]
    frame = parse_hl7(message(*SEGMENTS) + message(*other))
    assert frame["patient_id"].tolist() == ["TEST-1", "TEST-1", "TEST-2"]
    assert frame["sex"].tolist() == ["F", "F", "M"]
    assert frame["order_id"].tolist() == ["ORD-1", "ORD-1", "ORD-2"]
    assert frame["collected_at"].tolist() == ["202401050810", "202401050810", "202402010900"]
    assert frame.loc[2, "source_row"] == 3


def test_blank_lines_between_messages_and_batch_envelope() -> None:
    """Blank lines and FHS/BHS/BTS/FTS envelope segments are skipped."""
    text = (
        "FHS|^~\\&|LAB\rBHS|^~\\&|LAB\r"
        + message(*SEGMENTS)
        + "\r\n\r\n"
        + message(MSH.replace("CTRL-1", "CTRL-2"), SEGMENTS[3])
        + "BTS|2\rFTS|1\r"
    )
    frame = parse_hl7(text)
    assert frame["message_control_id"].tolist() == ["CTRL-1", "CTRL-1", "CTRL-2"]
    assert pd.isna(frame.loc[2, "patient_id"])


def test_utf8_bom_and_cp1252_bytes() -> None:
    """UTF-8 with BOM and cp1252 bytes both read µ in a unit."""
    text = obx_message("OBX|1|NM|X^Y||5|µmol/L|||||F")
    assert parse_hl7(b"\xef\xbb\xbf" + text.encode("utf-8")).loc[0, "raw_unit"] == "µmol/L"
    assert parse_hl7(text.encode("cp1252")).loc[0, "raw_unit"] == "µmol/L"


def test_continuation_line_joins_previous_segment() -> None:
    """A line break inside a CR-ended field does not cut the OBX: its later fields are read."""
    text = obx_message("OBX|1|FT|NOTE^Note||first line\nsecond line|||N|||F")
    row = parse_hl7(text).iloc[0]
    assert row["raw_value"] == "first line\nsecond line"
    assert (row["lab_flag"], row["result_status"]) == ("N", "F")


# -- field mapping ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "expected"),
    [("<^5", "<5"), ("^182", "182"), (">=^7", ">=7"), ("^1^-^5", "1-5"), ("^1^:^128", "1:128")],
)
def test_structured_numeric(field: str, expected: str) -> None:
    """SN values are joined: comparator, number, separator, number."""
    frame = parse_hl7(obx_message(f"OBX|1|SN|X^Y||{field}|mg/L|||||F"))
    assert frame.loc[0, "raw_value"] == expected


def test_coded_value_uses_text_component() -> None:
    """CWE takes the text; without text the identifier; repetitions are joined by ~."""
    frame = parse_hl7(
        message(
            MSH,
            "OBX|1|CWE|X^Y||260373001^Detected^SCT|||A|||F",
            "OBX|2|CE|X^Y||POS^^L|||||F",
            "OBX|3|CWE|X^Y||A^Alpha^L~B^Beta^L|||||F",
        )
    )
    assert frame["raw_value"].tolist() == ["Detected", "POS", "Alpha~Beta"]


def test_text_repetitions_are_joined() -> None:
    """ST repetitions in OBX-5 stay in one row, joined by ~."""
    frame = parse_hl7(obx_message("OBX|1|ST|X^Y||Isolated~Not isolated|||||F"))
    assert frame.loc[0, "raw_value"] == "Isolated~Not isolated"


def test_unit_identifier_and_text_fallback() -> None:
    """OBX-6 gives its identifier; when that is empty, its text."""
    frame = parse_hl7(
        message(
            MSH,
            "OBX|1|NM|X^Y||5|mg/dL^milligram per deciliter^UCUM|||||F",
            "OBX|2|NM|X^Y||5|^mmol/L^L|||||F",
        )
    )
    assert frame["raw_unit"].tolist() == ["mg/dL", "mmol/L"]


def test_collected_at_falls_back_to_obx14() -> None:
    """Without OBR-7 the observation time comes from OBX-14."""
    text = message(
        MSH,
        "OBR|1|ORD-1||X^Test",
        "OBX|1|NM|X^Y||5|mg/L|||||F|||202403041230",
    )
    assert parse_hl7(text).loc[0, "collected_at"] == "202403041230"


def test_escapes_use_the_messages_own_encoding_characters() -> None:
    """With $ as escape character, $S$ and $T$ decode to that message's ^ and &."""
    header = "MSH|^~$&|LAB||||||ORU^R01|CTRL-9|P|2.5"
    row = parse_hl7(
        obx_message("OBX|1|NM|WBC^White $T$ cells^L||7.1|x10$S$9/L|||||F", header=header)
    ).iloc[0]
    assert row["raw_unit"] == "x10^9/L"
    assert row["source_name"] == "White & cells"


def test_escape_sequences_decoded() -> None:
    r"""Escapes \F\ \R\ \E\ \X41\ and \.br\ decode; highlight marks are dropped."""
    text = obx_message("OBX|1|FT|X^Y||a\\F\\b\\R\\c\\E\\d\\X41\\\\.br\\\\H\\e\\N\\|||||F")
    assert parse_hl7(text).loc[0, "raw_value"] == "a|b~c\\dA\ne"


def test_malformed_escapes_are_kept_as_written() -> None:
    """An unpaired escape character and an unknown sequence are kept, not dropped."""
    text = obx_message("OBX|1|NM|X^Y||5|mL/min\\1.73m2|\\Zq\\ 1-2||||F")
    row = parse_hl7(text).iloc[0]
    assert row["raw_unit"] == "mL/min\\1.73m2"
    assert row["lab_reference_text"] == "\\Zq\\ 1-2"


def test_escapes_python_hl7_would_log_decode_the_same_under_warnings_as_errors() -> None:
    r"""An empty sequence is kept, \C..\ and \M..\ are dropped; nothing warns (-W error)."""
    text = obx_message("OBX|1|ST|X^Y||a\\\\b\\C2842\\c\\M2442\\d|||||F")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = parse_hl7(text).loc[0, "raw_value"]
    assert value == "a\\\\bcd"


def test_library_logs_no_field_contents(caplog: pytest.LogCaptureFixture) -> None:
    """python-hl7's log records quoting a malformed escape (with the value) are dropped."""
    caplog.set_level(logging.DEBUG)
    parse_hl7(obx_message("OBX|1|ST|X^Y||\\Zvalue98765\\|||||F"))
    assert not [r for r in caplog.records if "98765" in r.getMessage()]


def test_short_or_bare_obx_still_gives_a_row() -> None:
    """An OBX with few or no fields still gives a row with what is known."""
    frame = parse_hl7(message(MSH, "PID|1||TEST-1", "OBX|1|NM", "OBX"))
    assert frame["source_row"].tolist() == [1, 2]
    assert frame["obx_set_id"].tolist()[0] == "1"
    assert frame["value_type"].tolist()[0] == "NM"
    assert frame["patient_id"].tolist() == ["TEST-1", "TEST-1"]
    assert frame["raw_value"].isna().all()
    assert not frame["corrected"].any()


def test_obx_before_first_msh_is_kept() -> None:
    """An OBX before the first MSH is read with the default separators, without message id."""
    text = message("OBX|1|NM|X^Y||5|mg/L|||||F", *SEGMENTS)
    frame = parse_hl7(text)
    assert frame["raw_value"].tolist() == ["5", "0.82", "1.4"]
    assert pd.isna(frame.loc[0, "message_control_id"])
    assert frame.loc[1, "message_control_id"] == "CTRL-1"


# -- read_hl7 inputs ---------------------------------------------------------------------


def test_read_hl7_inputs() -> None:
    """A path, bytes, a binary file and a text file give the same frame."""
    path = HL7_DATA / "winpath_incremental_orders_05_oru_r01.txt"
    expected = read_hl7(path)
    data = path.read_bytes()
    pd.testing.assert_frame_equal(read_hl7(str(path)), expected)
    pd.testing.assert_frame_equal(read_hl7(data), expected)
    pd.testing.assert_frame_equal(read_hl7(io.BytesIO(data)), expected)
    pd.testing.assert_frame_equal(read_hl7(io.StringIO(data.decode("utf-8"))), expected)


def test_read_hl7_missing_path_names_it(tmp_path: Path) -> None:
    """A missing file raises ReadError naming the path."""
    with pytest.raises(ReadError, match=r"absent\.hl7"):
        read_hl7(tmp_path / "absent.hl7")


def test_read_hl7_refuses_message_text_without_echoing_it() -> None:
    """Message text given as a path raises ReadError that does not quote the text."""
    with pytest.raises(ReadError) as caught:
        read_hl7(message(*SEGMENTS))
    assert "TEST-1" not in str(caught.value)
    assert "parse_hl7" in str(caught.value)


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "where", "what"),
    [
        (b"", "byte 0", "empty"),
        (b" \r\n\r\n", "byte 0", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "byte 8", "binary"),
        (b"MSH|^~\\&|LAB\rOBX|1|ST|X||\x81\x8d", "byte 25", "neither UTF-8 nor cp1252"),
        (b"PID|1||TEST-1\rOBX|1|NM|X^Y||98765|mg/L", "segment 1", "no MSH segment"),
        (b"Analyse;Resultat\nMagnesium;0,82\n", "segment 1", "no MSH segment"),
        (b"MSH\rOBX|1|NM|X^Y||98765", "segment 1", "MSH-1"),
        (b"PID|1\rMSH|^^\\&|LAB\rOBX|1|NM|X^Y||98765", "segment 2", "MSH-2"),
        # the header declares '#', the OBX uses '|': joined to the OBR, its result would be lost
        (b"MSH#^~\\&#LAB\rOBR#1\rOBX|1|NM|X^Y||98765", "segment 3", "MSH-1"),
    ],
)
def test_unreadable_input_raises_read_error(data: bytes, where: str, what: str) -> None:
    """Unreadable input raises ReadError naming the source and position, never the content."""
    with pytest.raises(ReadError) as caught:
        parse_hl7(data, name="export.hl7")
    text = str(caught.value)
    assert text.startswith(f"export.hl7, {where}")
    assert what in text
    assert "98765" not in text
    assert "TEST-1" not in text


def test_read_error_is_a_value_error() -> None:
    """ReadError can be caught as ValueError."""
    with pytest.raises(ValueError, match="<text>, byte 0"):
        parse_hl7("")


# -- properties ---------------------------------------------------------------------------

_FIELD_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ0123456789.<>=-_ /^~&\\|#µ")), max_size=12
)


@settings(max_examples=150, deadline=None)
@given(
    bodies=st.lists(
        st.tuples(st.sampled_from(["OBX", "NTE", "OBR", "PID", "ZZZ"]), _FIELD_TEXT),
        max_size=8,
    )
)
def test_never_loses_an_obx_and_never_raises_other_errors(
    bodies: list[tuple[str, str]],
) -> None:
    """Arbitrary field text after a valid MSH gives exactly one row per OBX segment."""
    text = message(MSH, *(f"{kind}|{body}" for kind, body in bodies))
    frame = parse_hl7(text)
    expected = sum(kind == "OBX" for kind, _ in bodies)
    assert frame["source_row"].tolist() == list(range(1, expected + 1))


# -- end to end ---------------------------------------------------------------------------


# us reports magnesium in mg/dL: 0.60 and 1.00 mmol/L x 24.305 g/mol (Mg molar mass) / 10.
@pytest.mark.parametrize(("profile", "low", "high"), [("no", 0.60, 1.00), ("us", 1.4583, 2.4305)])
def test_interpret_uclh_magnesium(profile: str, low: float, high: float) -> None:
    """Interpretation reads the UCLH magnesium as magnesium, flag N, against the lab's own range."""
    frame = read_sample("winpath_incremental_orders_05_oru_r01.txt")
    out = labinterp.interpret(frame, profile=profile)
    mg = out.iloc[0]
    assert mg["analyte"] == "magnesium"
    assert mg["flag"] == "N"
    assert mg["reference_source"] == "lab"
    assert mg["status"] == "ok"
    assert mg["reference_low"] == pytest.approx(low, abs=1e-4)
    assert mg["reference_high"] == pytest.approx(high, abs=1e-4)
    assert mg["sex"] == "female"
    assert mg["age_years_exact"] == pytest.approx(23.88, abs=0.01)
    assert mg["age_years"] == 23  # completed years, from the birth date
