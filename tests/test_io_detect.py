import warnings

import pytest

import labinterp
from labinterp.errors import LabinterpWarning, ReadError
from labinterp.io.readers.detect import detect_format

from .conftest import DATA, EXAMPLES


@pytest.mark.parametrize(
    ("path", "kind", "rows"),
    [
        # every line below the header is one result
        (
            EXAMPLES / "nordic_export.csv",
            "csv",
            (EXAMPLES / "nordic_export.csv").read_bytes().count(b"\n") - 1,
        ),
        (EXAMPLES / "nordic_wide.csv", "csv", 11),
        (DATA / "hl7" / "winpath_incremental_orders_05_oru_r01.txt", "hl7", 2),
        (DATA / "fhir" / "observation-example-f205-egfr.json", "fhir", 2),
    ],
)
def test_read_detects_the_format_from_content(path, kind: str, rows: int) -> None:
    """read() picks the reader from the bytes, whatever the file is called."""
    data = path.read_bytes()
    assert detect_format(data, "export.dat") == kind
    with warnings.catch_warnings():  # nordic_wide's Kommentar column is named as not used
        warnings.simplefilter("ignore", LabinterpWarning)
        assert len(labinterp.read(data)) == rows


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x0bMSH|^~\\&|LAB\r", "hl7"),
        (b"\xef\xbb\xbfMSH|^~\\&|LAB\r", "hl7"),
        (b'  {"resourceType": "Observation"}', "fhir"),
        (b'{"resourceType": "Observation"}\n{"resourceType": "Observation"}\n', "fhir"),
        (b"Analyse;Resultat\nCRP;5\n", "csv"),
    ],
)
def test_detect_format(data: bytes, kind: str) -> None:
    """MLLP framing, BOMs, leading spaces and NDJSON are recognised."""
    assert detect_format(data) == kind


@pytest.mark.parametrize(
    ("data", "words"), [(b"", "empty"), (b"  \n", "empty"), (b"ab\x00cd", "byte 2")]
)
def test_unreadable_input(data: bytes, words: str) -> None:
    """Empty and binary input raise ReadError naming the position."""
    with pytest.raises(ReadError, match=words):
        labinterp.read(data)
