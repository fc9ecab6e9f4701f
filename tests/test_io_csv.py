import csv
import io
import os

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import labinterp
from labinterp.errors import LabinterpWarning, ReadError
from labinterp.io.readers import csv_fields, csv_records

NORDIC = "Analyse;Resultat;Enhet;Referanseområde;Kjønn\nP-Magnesium;0,82;µmol/L;0,71 - 0,94;K\n"

#: The warning naming columns not used for interpretation (these files have some).
UNUSED_COLUMNS = "ignore:.*not used for interpretation:labinterp.errors.LabinterpWarning"


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")],
)
def test_encodings_are_detected_without_mojibake(encoding: str, prefix: bytes) -> None:
    """UTF-8, UTF-8 with BOM and Latin-1 (µ = 0xB5) all read to the same text."""
    frame = labinterp.read_csv(prefix + NORDIC.encode(encoding))
    assert frame.loc[0, "raw_unit"] == "µmol/L"
    assert frame.loc[0, "lab_reference_text"] == "0,71 - 0,94"
    assert list(frame.columns)[:2] == ["source_row", "source_name"]


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_delimiters_are_detected(delimiter: str) -> None:
    """Semicolon, comma and tab exports are split correctly."""
    text = (
        delimiter.join(["Test", "Result", "Unit"])
        + "\n"
        + delimiter.join(["Ferritin", "12", "ng/mL"])
    )
    frame = labinterp.read_csv(text.encode())
    assert frame.loc[0, ["source_name", "raw_value", "raw_unit"]].tolist() == [
        "Ferritin",
        "12",
        "ng/mL",
    ]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Analys", "source_name"),
        ("Resultat", "raw_value"),
        ("Enhet", "raw_unit"),
        ("Referensintervall", "lab_reference_text"),
        ("Provtagningsdatum", "collected_at"),
        ("Kön", "sex"),
        ("Födelsedatum", "birth_date"),
        ("Prøvedato", "collected_at"),
        ("Fødselsdato", "birth_date"),
        ("Pasient-ID", "patient_id"),
    ],
)
def test_nordic_headers_map_to_the_glossary(header: str, column: str) -> None:
    """Norwegian and Swedish header names map to glossary columns."""
    other = "Resultat" if header != "Resultat" else "Analyse"
    frame = labinterp.read_csv(f"{header};{other}\nx;y\n".encode())
    assert column in frame.columns


def test_explicit_column_mapping_wins() -> None:
    """columns= maps a site's own header names."""
    frame = labinterp.read_csv(b"Provesvar;Komponent\n5;CRP\n", columns={"Provesvar": "raw_value"})
    assert frame.loc[0, "raw_value"] == "5" and frame.loc[0, "source_name"] == "CRP"


def test_values_stay_text_and_source_row_is_the_line_number() -> None:
    """Values keep their spelling (no float conversion) and source_row counts file lines."""
    frame = labinterp.read_csv(b"Test,Result,Unit\nA,0.50,mg/L\nB,,mg/L\nC,007,mg/L\n")
    assert frame["raw_value"].tolist()[0] == "0.50" and frame["raw_value"].tolist()[2] == "007"
    assert frame["raw_value"].isna().tolist()[1]
    assert frame["source_row"].tolist() == [2, 3, 4]


def test_text_buffer_and_path(tmp_path) -> None:
    """read_csv accepts text buffers and paths."""
    assert len(labinterp.read_csv(io.StringIO("Test;Resultat\nCRP;<5\n"))) == 1
    path = tmp_path / "x.csv"
    path.write_bytes(NORDIC.encode("cp1252"))
    assert labinterp.read_csv(path).loc[0, "raw_unit"] == "µmol/L"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"only;headers;here\n1;2;3\n", "no result-value column"),
        (b"Test;Result\nA;1\nB;2;3;4\n", "line"),
    ],
)
def test_unreadable_files_raise_read_error_naming_position(data: bytes, words: str) -> None:
    """A file that cannot be read raises ReadError naming the problem and where."""
    with pytest.raises(ReadError, match=words) as info:
        labinterp.read_csv(data)
    assert "<bytes>" in str(info.value)


def test_missing_file_names_the_path(tmp_path) -> None:
    """A missing file raises ReadError with its path."""
    with pytest.raises(ReadError, match=r"missing\.csv"):
        labinterp.read_csv(tmp_path / "missing.csv")


def test_nordic_wide_example(tmp_path) -> None:
    """The wide Swedish example (UTF-8 with BOM) becomes one row per non-empty result cell."""
    from .conftest import EXAMPLES

    with pytest.warns(LabinterpWarning, match="'Kommentar'"):
        frame = labinterp.read_csv(EXAMPLES / "nordic_wide.csv")
    assert len(frame) == 11  # 4 samples, 16 result cells, 5 of them empty
    first = frame.iloc[0]
    assert (first["source_row"], first["source_name"], first["raw_unit"]) == (
        2,
        "P-Kreatinin",
        "µmol/L",
    )
    assert frame["source_column"].iloc[2] == "P-Magnesium (mmol/L)"
    assert frame["Kommentar"].iloc[3] == "fastande"  # other columns are kept as context
    out = labinterp.interpret(frame, profile="se")
    assert out["analyte"].value_counts()[lambda counts: counts > 0].to_dict() == {
        "creatinine": 3,
        "hba1c": 3,
        "magnesium": 3,
        "ferritin": 2,
        "egfr": 3,  # derived: Lund-Malmö revised for S01 and S02, EKFC for the 6-year-old
    }
    derived = out[out["status"] == "derived"]
    assert derived["equation"].tolist() == [
        "egfr_lund_malmo_revised",
        "egfr_lund_malmo_revised",
        "egfr_ekfc_cr",
    ]


def test_wide_headers_with_square_brackets_and_explicit_shape() -> None:
    """Units in [brackets] work, and shape='wide' insists on result columns."""
    frame = labinterp.read_csv(b"Patient;HbA1c [mmol/mol]\nA;48\n", shape="wide")
    assert frame.loc[0, ["source_name", "raw_unit", "raw_value"]].tolist() == [
        "HbA1c",
        "mmol/mol",
        "48",
    ]
    with pytest.raises(ReadError, match="unit in the header"):
        labinterp.read_csv(b"Patient;Note\nA;x\n", shape="wide")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-01-15", "2026-01-15 00:00:00"),
        ("2026-01-15 08:10", "2026-01-15 08:10:00"),
        ("2026-01-15T08:10:05", "2026-01-15 08:10:05"),
        ("15.01.2026", "2026-01-15 00:00:00"),
        ("15.01.2026 08:10", "2026-01-15 08:10:00"),
    ],
)
def test_dates(written: str, expected: str) -> None:
    """ISO, dd.mm.yyyy and dd.mm.yyyy HH:MM dates are read."""
    frame = labinterp.read_csv(f"Test;Resultat;Prøvedato\nCRP;3;{written}\n".encode())
    assert str(frame.loc[0, "collected_at"]) == expected


def test_ambiguous_slashed_date_is_reported_not_guessed() -> None:
    """01/02/2026 could be 1 February or 2 January: it is left empty with a read_problem."""
    frame = labinterp.read_csv(b"Test;Resultat;Provdatum\nCRP;3;01/02/2026\n")
    assert frame["collected_at"].isna().all()
    assert "collected_at could not be read" in frame.loc[0, "read_problem"]


def test_age_from_birth_and_collection_dates() -> None:
    """Without an age column, age is computed from birth and collection dates."""
    frame = labinterp.read_csv(
        "Analyse;Resultat;Enhet;Fødselsdato;Prøvedato\n"
        "Kreatinin;95;µmol/L;01.03.1976;01.03.2026\n".encode()
    )
    assert frame.loc[0, "age_years"] == pytest.approx(50.0, abs=0.01)


def test_numeric_sex_codes_need_an_explicit_map() -> None:
    """'1'/'2' are not read as sex unless a sex_map says what they mean."""
    data = b"Analyse;Resultat;Enhet;Kjonn;Alder\nKreatinin;95;umol/L;2;40\n"
    plain = labinterp.interpret(labinterp.read_csv(data))
    assert plain.loc[0, "status"] == "missing_context"
    mapped = labinterp.interpret(labinterp.read_csv(data, sex_map={"1": "male", "2": "female"}))
    assert (mapped.loc[0, "sex"], mapped.loc[0, "flag"]) == ("female", "H")


def test_code_map_identifies_local_codes(tmp_path) -> None:
    """A local code map (mapping or CSV file) sets the analyte; unknown keys are refused."""
    data = b"code,value,unit\n50960,2.0,mg/dL\n99999,1,mmol/L\n"
    frame = labinterp.read_csv(
        data, columns={"code": "source_code"}, code_map={"50960": "magnesium"}
    )
    assert frame["analyte"].tolist()[0] == "magnesium" and frame["analyte"].isna().tolist()[1]
    path = tmp_path / "map.csv"
    path.write_text("code,analyte\n50960,magnesium\n", encoding="utf-8")
    assert (
        labinterp.read_csv(data, columns={"code": "source_code"}, code_map=path).loc[0, "analyte"]
        == "magnesium"
    )
    with pytest.raises(labinterp.UnknownAnalyteError, match="unobtainium"):
        labinterp.read_csv(data, columns={"code": "source_code"}, code_map={"1": "unobtainium"})


def test_reference_limits_in_two_columns_become_the_lab_range() -> None:
    """ref_range_lower/ref_range_upper columns are joined into the lab's range text."""
    frame = labinterp.read_csv(
        b"Test,Value,Unit,ref_range_lower,ref_range_upper\nMagnesium,1.5,mg/dL,1.6,2.6\n"
    )
    assert frame.loc[0, "lab_reference_text"] == "1.6 - 2.6"
    out = labinterp.interpret(frame, profile="us")
    assert (out.loc[0, "reference_source"], out.loc[0, "flag"]) == ("lab", "L")


def test_mixed_utf8_and_latin1_lines() -> None:
    """A file mixing UTF-8 and Latin-1 lines is read without mojibake."""
    data = (
        b"Analyse;Resultat;Enhet\n"
        + "P-Kreatinin;80;µmol/L\n".encode()
        + "P-Kreatinin;81;µmol/L\n".encode("cp1252")
    )
    assert labinterp.read_csv(data)["raw_unit"].tolist() == ["µmol/L", "µmol/L"]


def test_utf8_bytes_are_passed_on_only_for_a_utf8_file() -> None:
    """The UTF-8 bytes handed to Arrow are the text's own.

    They come without the BOM, and there are none for a file decoded (in part) as cp1252.
    """
    text = "Analyse;Resultat;Enhet\nP-Kreatinin;80;µmol/L\n"
    assert csv_fields.decode_keeping_utf8(text.encode("utf-8")) == (text, text.encode("utf-8"))
    with_bom = b"\xef\xbb\xbf" + text.encode("utf-8")
    assert csv_fields.decode_keeping_utf8(with_bom) == (text, text.encode("utf-8"))
    assert csv_fields.decode_keeping_utf8(text.encode("cp1252")) == (text, None)
    assert labinterp.read_csv(with_bom)["raw_unit"].tolist() == ["µmol/L"]


def test_explicit_wrong_encoding_names_the_byte() -> None:
    """A forced encoding that does not fit raises ReadError naming the byte offset."""
    with pytest.raises(ReadError, match="byte 36"):
        labinterp.read_csv(
            "Analyse;Resultat;Enhet\nKreatinin;80;µmol/L\n".encode("cp1252"), encoding="utf-8"
        )


FIELD = st.text(alphabet='ab ,;"\n\r\t1µø', max_size=6)


@settings(max_examples=int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150")), deadline=None)
@given(
    st.sampled_from([";", ",", "\t"]),
    st.integers(1, 4).flatmap(
        lambda k: st.tuples(
            st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=4), min_size=k, max_size=k),
            st.lists(st.lists(FIELD, min_size=k, max_size=k), max_size=8),
        )
    ),
    st.booleans(),
    st.booleans(),
)
def test_arrow_reader_reads_what_pythons_csv_reader_reads(
    sep: str, table: tuple[list[str], list[list[str]]], crlf: bool, as_bytes: bool
) -> None:
    """Where Arrow's reader takes a file, it reads the fields Python's csv module reads.

    Both ways in: the text alone, and the text with its UTF-8 bytes (as for a UTF-8 file).
    """
    header, rows = table
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\r\n" if crlf else "\n").writerows(
        [header, *rows]
    )
    text = buffer.getvalue()
    arrow = csv_fields.read_fields_arrow(text, sep, text.encode("utf-8") if as_bytes else None)
    if arrow is None:
        return  # pandas' reader reads it
    read_back = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep) if r]
    expected = pd.DataFrame(
        [[field or None for field in row] for row in read_back[1:]],
        columns=read_back[0],
        dtype="str",
    )
    pd.testing.assert_frame_equal(arrow, expected, check_index_type=False)


@pytest.mark.parametrize("header_end", ["", ";"])
def test_a_delimiter_at_the_end_of_every_row_moves_no_field(header_end: str) -> None:
    """A trailing delimiter on every data row (and maybe the header) is dropped.

    Long and wide exports: every field stays in its column and no column is added.
    """
    long = labinterp.read_csv(
        f"Pasient-ID;Kjønn;Alder;Analyse;Resultat;Enhet{header_end}\n"
        "P001;K;54;P-Kreatinin;78;µmol/L;\nP002;M;61;P-Magnesium;0,9;mmol/L;\n".encode()
    )
    assert long[["patient_id", "sex", "source_name", "raw_value", "raw_unit"]].values.tolist() == [
        ["P001", "K", "P-Kreatinin", "78", "µmol/L"],
        ["P002", "M", "P-Magnesium", "0,9", "mmol/L"],
    ]
    assert long["age_years"].tolist() == [54, 61]
    assert not [c for c in long.columns if str(c).startswith("Unnamed")]
    wide = labinterp.read_csv(
        f"Pasient-ID;Kjønn;Alder;P-Kreatinin (µmol/L);P-Magnesium (mmol/L){header_end}\n"
        "P001;K;54;70;0,9;\n".encode()
    )
    assert wide[["patient_id", "source_name", "raw_value"]].values.tolist() == [
        ["P001", "P-Kreatinin", "70"],
        ["P001", "P-Magnesium", "0,9"],
    ]


def test_a_delimiter_at_the_end_of_the_header_only_names_no_column() -> None:
    """A header ending in a delimiter over rows without one: the rows fit the header."""
    frame = labinterp.read_csv(b"Analyse;Resultat;Enhet;\nCRP;<5;mg/L\n")
    assert frame[["source_name", "raw_value", "raw_unit"]].values.tolist() == [
        ["CRP", "<5", "mg/L"]
    ]
    assert list(frame.columns)[:4] == ["source_row", "source_name", "raw_value", "raw_unit"]
    assert not [c for c in frame.columns if str(c).startswith("Unnamed")]


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"Analyse;Resultat;Enhet\nCRP;5;mg/L\nCRP;SECRET;mg/L;x\n", 3, "4 fields where"),
        (b"Analyse;Resultat;Enhet\nCRP;5;mg/L\nCRP;SECRET\n", 3, "2 fields where"),
        (b"Analyse;Resultat;Enhet\nCRP;SECRET\nCRP;5;mg/L\n", 2, "2 fields where"),
        (b"Analyse;Resultat\nCRP;5;\nCRP;SECRET\n", 3, "2 fields where the first row has 3"),
        (b"Analyse;Resultat\nCRP;5;\nCRP;5;SECRET\n", 3, "a value after"),
        (b'Analyse;Resultat\n\n\nCRP;5\nCRP;"SECRET\n5\n', 5, "never closed"),
        (b'Analyse;Resultat\r\nCRP;"a\r\nb"\r\nCRP;SECRET;x\r\n', 4, "3 fields where"),
    ],
)
def test_a_row_that_does_not_fit_the_header_is_refused_naming_its_line(
    data: bytes, line: int, words: str
) -> None:
    """More or fewer fields than the header, or a quoted field never closed: ReadError.

    The message names the file line (quoted line breaks and blank lines counted) and
    never a cell's content. Without this, a shorter or longer row would put its fields
    in other columns, and an unclosed quote would swallow the rows after it.
    """
    with pytest.raises(ReadError, match=words) as info:
        labinterp.read_csv(data)
    assert f"<bytes>, line {line}:" in str(info.value)
    assert "SECRET" not in str(info.value)


@pytest.mark.filterwarnings(UNUSED_COLUMNS)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_source_row_is_the_line_where_the_record_starts(newline: str) -> None:
    """Blank lines (before the header too), lines of spaces and quoted line breaks count.

    The header is line 1 when the file starts with it; ``source_row`` is the line of
    the file where each record starts, in long and in wide exports.
    """
    lines = [
        "Pasient-ID;Analyse;Resultat",
        "P1;A;1",
        "",
        "",
        "P2;B;2",
        'P3;"x',
        'y";3',
        "  ",
        "P4;C;4",
    ]
    frame = labinterp.read_csv(newline.join(lines).encode())
    assert frame[["source_row", "patient_id"]].values.tolist() == [
        [2, "P1"],
        [5, "P2"],
        [6, "P3"],
        [9, "P4"],
    ]
    assert labinterp.read_csv(newline.join(["", "", *lines]).encode())["source_row"].tolist() == [
        4,
        7,
        8,
        11,
    ]
    wide = labinterp.read_csv(
        newline.join(["Pasient-ID;Merknad;HbA1c [mmol/mol]", "", 'S1;"a', 'b";48']).encode()
    )
    assert wide[["source_row", "raw_value"]].values.tolist() == [[3, "48"]]


@pytest.mark.filterwarnings(UNUSED_COLUMNS)
def test_a_quote_inside_an_unquoted_field_is_an_ordinary_character() -> None:
    """``5'11"`` and ``x"y`` are text; a quoted field after them keeps its line break."""
    frame = labinterp.read_csv(
        b'Pasient-ID;Resultat;Kommentar\nP1;1;5\'11"\nP2;2;x"y\nP3;3;"a\nb"\nP4;4;"q"r\n'
    )
    assert frame["Kommentar"].tolist() == ["5'11\"", 'x"y', "a\nb", "qr"]
    assert frame["source_row"].tolist() == [2, 3, 4, 6]


@pytest.mark.parametrize(
    ("header", "first_row", "names", "fields"),
    [
        (["a", "b"], ["1", "2"], ("a", "b"), 2),
        (["a", "b"], ["1", "2", ""], ("a", "b"), 3),  # every row ends in a delimiter
        (["a", "b", ""], ["1", "2", ""], ("a", "b"), 3),  # the header too
        (["a", "b", ""], ["1", "2"], ("a", "b"), 2),  # only the header
        (["a", "b", ""], ["1", "2", "3"], ("a", "b", ""), 3),  # an unnamed column
        (["a", "b"], ["1", "2", "3"], ("a", "b"), 2),  # refused at the first row
        (["a", "b", ""], None, ("a", "b"), 2),
    ],
)
def test_the_layout_follows_the_header_and_the_first_row(
    header: list[str], first_row: list[str] | None, names: tuple[str, ...], fields: int
) -> None:
    """Which empty last field is a trailing delimiter, decided once for the whole file."""
    assert csv_records.record_layout(header, first_row) == csv_records.Layout(names, fields)


def test_the_delimiter_is_one_character() -> None:
    """A delimiter of several characters is refused (records could not be found)."""
    with pytest.raises(ReadError, match="one character"):
        labinterp.read_csv(b"Analyse::Resultat\nCRP::5\n", delimiter="::")


@settings(max_examples=int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150")), deadline=None)
@given(
    st.sampled_from([";", ",", "\t"]),
    st.integers(2, 4).flatmap(
        lambda k: st.tuples(
            st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=4), min_size=k, max_size=k),
            st.lists(st.lists(FIELD, min_size=k, max_size=k), max_size=8),
        )
    ),
    st.sampled_from(["\n", "\r\n"]),
    st.lists(st.sampled_from(["5'11\"", 'a"b', "", " "]), max_size=3),
)
def test_both_readers_give_the_same_fields_and_lines(
    sep: str, table: tuple[list[str], list[list[str]]], newline: str, strays: list[str]
) -> None:
    """Arrow's reader (where it reads) and the csv module's give equal fields and lines.

    Rows written by Python's csv writer, with blank lines, lines of spaces, and rows
    whose first field holds a stray quote (written as it is, unquoted) between them.
    """
    header, rows = table
    # With "\n" line ends Python's writer leaves a lone "\r" unquoted: it ends a record.
    assume(newline == "\r\n" or not any("\r" in field for row in rows for field in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator=newline)
    writer.writerow(header)
    for n, row in enumerate(rows):
        writer.writerow(row)
        if n < len(strays) and strays[n].strip():
            buffer.write(strays[n] + sep)  # unquoted, the rest of the row as written
            writer.writerow(row[1:])
        elif n < len(strays):
            buffer.write(strays[n] + newline)
    text = buffer.getvalue()
    fast = csv_fields.read_fields(text, sep, "<t>")
    slow = csv_fields.read_fields_csv(text, sep, "<t>")
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert fast.lines.tolist() == slow.lines.tolist()
    expected = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep)]
    expected = [r for r in expected if not csv_records.is_blank(r)]
    read = fast.frame.astype(object).where(fast.frame.notna(), "").values.tolist()
    assert read == expected[1:]


def test_arrows_blocks_read_stray_quotes_as_the_csv_module_does() -> None:
    """A file of megabytes: Arrow reads it in blocks, each cut at a record end.

    Quotes inside unquoted fields and quoted fields holding delimiters, ``""`` and line
    breaks fall across Arrow's block boundaries; its fields and lines equal the csv
    module's.
    """
    comments = ["", "5'11\"", 'x"y', '"a;b"', '"first\nsecond ""quoted"""', '"p"q', "z"]
    rows = [
        f"P{n:06d};{n % 97};{comments[n * 3 % len(comments)]};{comments[n % len(comments)]}"
        for n in range(120_000)
    ]
    text = "Pasient-ID;Resultat;Kommentar;Merknad\n" + "\n".join(rows) + "\n"
    assert len(text) > 2_000_000  # Arrow's blocks are 1 MB
    assert csv_fields.read_fields_arrow(text, ";") is not None
    fast = csv_fields.read_fields(text, ";", "<t>")
    slow = csv_fields.read_fields_csv(text, ";", "<t>")
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert fast.lines.tolist() == slow.lines.tolist()
    assert fast.frame["Pasient-ID"].tolist() == [f"P{n:06d}" for n in range(120_000)]
    assert fast.lines[-1] == 120_001 + sum(n % len(comments) == 4 for n in range(120_000)) + sum(
        n * 3 % len(comments) == 4 for n in range(120_000)
    )
