"""Streaming the CLI: identical output, patient grouping, strict mode, atomic output."""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import labinterp
import labinterp.cli as cli
from labinterp import stream
from labinterp.cli import app
from labinterp.errors import LabinterpWarning, ReadError
from labinterp.io.readers.csv_records import record_breaks
from labinterp.io.writers import csv as csv_writer

from .conftest import EXAMPLES

runner = CliRunner()
EXAMPLES_FUZZ = int(os.environ.get("LABINTERP_FUZZ_EXAMPLES", "150"))

#: The warning naming columns not used for interpretation (these files have some).
UNUSED_COLUMNS = "ignore:.*not used for interpretation:labinterp.errors.LabinterpWarning"


def _grouped_export(path: Path, patients: int = 40) -> Path:
    """Write the Nordic example repeated for many patients, each patient's rows together."""
    source = (EXAMPLES / "nordic_export.csv").read_bytes().decode("cp1252").splitlines()
    header, body = source[0], source[1:]
    lines = [header]
    for n in range(patients):
        lines += [row.replace("P00", f"Q{n:03d}-P00", 1) for row in body]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def test_streaming_equals_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small batches that keep patients together give exactly the in-memory output."""
    export = _grouped_export(tmp_path / "export.csv")
    whole, streamed = tmp_path / "whole.csv", tmp_path / "streamed.csv"
    assert (
        runner.invoke(app, ["interpret", str(export), "--in-memory", "-o", str(whole)]).exit_code
        == 0
    )
    monkeypatch.setattr(cli, "CHUNK_ROWS", 7)  # far smaller than a patient's 4-6 rows x many
    result = runner.invoke(app, ["interpret", str(export), "--history", "-o", str(streamed)])
    assert result.exit_code == 0, result.output
    again = tmp_path / "whole_history.csv"
    runner.invoke(app, ["interpret", str(export), "--history", "--in-memory", "-o", str(again)])
    pd.testing.assert_frame_equal(pd.read_csv(again), pd.read_csv(streamed))
    assert "not grouped" not in result.output
    assert len(pd.read_csv(whole)) == len(pd.read_csv(streamed))


def test_ungrouped_input_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When a patient's rows are apart, the CLI says so and names the option that handles it."""
    rows = (EXAMPLES / "nordic_export.csv").read_bytes().decode("cp1252").splitlines()
    shuffled = [rows[0], *rows[1:][::2], *rows[1:][1::2]]  # P001 rows appear twice, apart
    path = tmp_path / "ungrouped.csv"
    path.write_bytes("\r\n".join(shuffled).encode("cp1252"))
    monkeypatch.setattr(cli, "CHUNK_ROWS", 5)
    result = runner.invoke(app, ["interpret", str(path), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0
    assert "not grouped by patient" in result.output and "--in-memory" in result.output


def test_strict_stops_at_the_first_bad_row(tmp_path: Path) -> None:
    """--strict exits 1 naming the file line of the first bad row, and writes nothing."""
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["interpret", str(EXAMPLES / "nordic_export.csv"), "--strict", "-o", str(out)]
    )
    assert result.exit_code == 1
    assert "Row 13 could not be interpreted (unparsed_value)" in result.output  # 'hemolysert'
    assert not out.exists() and not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize("extra", [[], ["--texts", "table"]])
def test_interrupted_run_leaves_no_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str]
) -> None:
    """An interrupted run removes its temporary files and leaves no output posing as complete.

    With ``--texts table`` neither the output nor its texts file is left.
    """
    export = _grouped_export(tmp_path / "export.csv", patients=5)
    out = tmp_path / "out.csv"
    calls = {"n": 0}
    real = cli.interpret_frame

    def interrupt_second(frame: pd.DataFrame, **options: object) -> pd.DataFrame:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(frame, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "CHUNK_ROWS", 7)
    monkeypatch.setattr(cli, "interpret_frame", interrupt_second)
    result = runner.invoke(app, ["interpret", str(export), "-o", str(out), *extra])
    assert result.exit_code == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]


def test_bad_row_in_the_middle_does_not_stop_the_run(tmp_path: Path) -> None:
    """A bad row in a large file gets its status; the run goes on and the summary counts it."""
    export = _grouped_export(tmp_path / "export.csv", patients=30)
    result = runner.invoke(app, ["interpret", str(export), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0
    written = pd.read_csv(tmp_path / "out.csv")
    assert (written["status"] == "unparsed_value").sum() == 30
    assert "unparsed_value" in result.output


def test_an_output_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    """Writing into a missing folder exits 1 with a one-line error and leaves nothing."""
    out = tmp_path / "missing" / "out.csv"
    result = runner.invoke(app, ["interpret", str(EXAMPLES / "nordic_export.csv"), "-o", str(out)])
    assert result.exit_code == 1
    assert "cannot write" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_a_large_csv_run_suggests_parquet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the large-run size, the CLI names the outputs that store each text once."""
    monkeypatch.setattr(cli, "LARGE_CSV_ROWS", 10)
    export = EXAMPLES / "nordic_export.csv"
    large = runner.invoke(app, ["interpret", str(export), "-o", str(tmp_path / "out.csv")])
    assert large.exit_code == 0 and "--format parquet" in large.output
    assert "--texts table" in large.output
    keyed = ["interpret", str(export), "-o", str(tmp_path / "k.csv"), "--texts", "table"]
    assert "tip:" not in runner.invoke(app, keyed).output
    monkeypatch.setattr(cli, "LARGE_CSV_ROWS", 10_000)
    small = runner.invoke(app, ["interpret", str(export), "-o", str(tmp_path / "out2.csv")])
    assert small.exit_code == 0 and "--format parquet" not in small.output


_CSV_PIECES = st.lists(
    st.one_of(
        st.sampled_from(["a", "b;c", "1,5", ";", '""', "5'11\"", 'x"', ' "', '"q"r']),
        st.builds(
            lambda t: f'"{t}"',
            st.sampled_from(["x", "y\nz", "q;\n\nr", 'p""\ns', "c\r\nd", "e\rf"]),
        ),
        st.sampled_from(["\n", "\r\n", "\r"]),
    ),
    max_size=60,
)


def _record_ends(data: bytes, sep: str) -> set[int]:
    """Where Python's csv module ends each record of ``data`` (byte offsets)."""
    text = data.decode("latin-1")
    offsets = list(itertools.accumulate(len(line) for line in io.StringIO(text, newline="")))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    return {offsets[reader.line_num - 1] for _ in reader}


@settings(max_examples=EXAMPLES_FUZZ, deadline=None)
@given(_CSV_PIECES, st.integers(1, 5), st.integers(1, 16))
def test_pieces_end_where_pythons_csv_module_ends_a_record(
    parts: list[str], lines: int, block: int
) -> None:
    """A file is cut into pieces of whole records, as Python's csv module reads records.

    Quotes inside unquoted fields (``5'11"``, ``x"``) are ordinary characters; quoted
    fields hold delimiters, ``""`` and line breaks (LF, CRLF, a lone CR), read in blocks
    of 1 to 16 bytes. Each piece but the last ends at the first record end after its
    first ``lines`` line breaks and comes with the number of line breaks it holds.
    """
    data = "".join(parts).encode()
    with mock.patch.object(stream, "_BLOCK_BYTES", block):
        pieces = list(stream._pieces(io.BytesIO(data), lines, ";"))
    assert b"".join(piece for piece, _ in pieces) == data
    assert all(piece for piece, _ in pieces)
    ends = _record_ends(data, ";")
    at = 0
    for piece, count in pieces[:-1]:
        breaks = [m.end() for m in re.finditer(rb"\r\n|\r|\n", piece)]
        assert count == len(breaks) >= lines
        assert at + len(piece) in ends
        assert not [b for b in breaks[lines - 1 : -1] if at + b in ends]
        at += len(piece)


def test_a_quoted_line_break_at_a_batch_end_is_kept_whole(tmp_path: Path) -> None:
    """A quoted field holding a line break is never split between two batches."""
    export = tmp_path / "export.csv"
    export.write_text(
        "patient_id;Analyse;Resultat;Enhet;Kommentar\n"
        'P1;S-Magnesium;0,82;mmol/L;"first line\nsecond line"\n'
        "P2;S-Magnesium;0,90;mmol/L;none\n",
        encoding="utf-8",
    )
    with pytest.warns(LabinterpWarning, match="'Kommentar'"):
        whole = labinterp.read_csv(export)
    with pytest.warns(LabinterpWarning, match="'Kommentar'") as caught:
        batches = [frame for frame, _ in stream.iter_csv(export, batch_lines=1)]
    assert len(caught) == 1  # named once per read, not once per batch
    assert sum(len(b) for b in batches) == len(whole) == 2
    assert pd.concat(batches, ignore_index=True)["patient_id"].tolist() == ["P1", "P2"]


@pytest.mark.parametrize("chunk", [7, 100_000])
def test_text_table_joins_back_to_the_inline_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """With --texts table, ids joined with the texts file give exactly the inline CSV."""
    export = _grouped_export(tmp_path / "export.csv", patients=6)
    monkeypatch.setattr(cli, "CHUNK_ROWS", chunk)  # ids hold across batches
    inline, keyed = tmp_path / "inline.csv", tmp_path / "keyed.csv"
    assert runner.invoke(app, ["interpret", str(export), "-o", str(inline)]).exit_code == 0
    result = runner.invoke(app, ["interpret", str(export), "-o", str(keyed), "--texts", "table"])
    assert result.exit_code == 0, result.output
    texts = pd.read_csv(tmp_path / "keyed.texts.csv", dtype=str, keep_default_na=False)
    assert list(texts.columns) == ["id", "column", "text"]
    assert texts["id"].is_unique and not texts.duplicated(["column", "text"]).any()
    expected = pd.read_csv(inline, dtype=str)
    joined = pd.read_csv(keyed, dtype=str)
    lookup = dict(zip(texts["id"], texts["text"], strict=True))
    for column in csv_writer.TABLE_TEXT_COLUMNS:
        used = joined[column].dropna()
        assert used.str.fullmatch(r"T\d+").all()
        assert set(texts.loc[texts["id"].isin(used), "column"]) == {column}
        joined[column] = joined[column].map(lookup)
    pd.testing.assert_frame_equal(joined, expected)
    assert (tmp_path / "keyed.csv").stat().st_size < (tmp_path / "inline.csv").stat().st_size


def test_text_ids_hold_across_batches_and_skip_unused_texts() -> None:
    """An id is given only to a text a batch uses, and means the same text in later batches.

    Columns may be categorical (explanations) or plain text (citations); a column that is
    missing on every row stays missing.
    """
    ids: dict[tuple[str, str], str] = {}
    first = pd.DataFrame(
        {
            "explanation": pd.Categorical([None, "b", None], categories=["a", "b", "c"]),
            "reference_citation": [None, None, None],
        }
    )
    out = csv_writer.with_text_ids(first, ids)
    assert out["explanation"].tolist()[1] == "T1" and out["explanation"].isna().sum() == 2
    assert out["reference_citation"].isna().all()
    assert ids == {("explanation", "b"): "T1"}
    second = pd.DataFrame(
        {
            "explanation": pd.Categorical(["c", "b", None], categories=["a", "b", "c"]),
            "reference_citation": ["x", None, "x"],
        }
    )
    out = csv_writer.with_text_ids(second, ids)
    text_of = {i: text for (_, text), i in ids.items()}
    assert [text_of.get(i) for i in out["explanation"]] == ["c", "b", None]
    assert [text_of.get(i) for i in out["reference_citation"]] == ["x", None, "x"]
    assert ("explanation", "a") not in ids


@pytest.mark.parametrize("extra", [["--format", "parquet", "-o", "out.parquet"], []])
def test_text_table_needs_csv_written_to_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: list[str]
) -> None:
    """--texts table with another format or with standard output is a clear error."""
    monkeypatch.chdir(tmp_path)
    export = EXAMPLES / "nordic_export.csv"
    result = runner.invoke(app, ["interpret", str(export), "--texts", "table", *extra])
    assert result.exit_code == 2 and "--texts table needs CSV output" in result.output
    assert not list(tmp_path.iterdir())


def _stray_quote_export(path: Path, records: int = 40) -> Path:
    """Write a Nordic export whose comments hold a stray quote, then a quoted line break."""
    lines = ["Pasient-ID;Kjønn;Alder;Analyse;Resultat;Enhet;Kommentar"]
    for n in range(records):
        comment = {3: "5'11\"", records - 5: '"hemolysert\nny prøve"'}.get(n, "")
        lines.append(f"P{n:03d};K;54;P-Kreatinin;{60 + n};µmol/L;{comment}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_stray_quote_does_not_split_a_later_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``"`` inside an unquoted field (5'11") is an ordinary character when streaming.

    A quoted line break far after it stays in its record: the streamed CLI writes the
    same rows, patient ids and lines as the in-memory one, one row per record.
    """
    export = _stray_quote_export(tmp_path / "stray.csv")
    whole, streamed = tmp_path / "whole.csv", tmp_path / "streamed.csv"
    result = runner.invoke(app, ["interpret", str(export), "--in-memory", "-o", str(whole)])
    assert result.exit_code == 0, result.output
    monkeypatch.setattr(cli, "CHUNK_ROWS", 3)
    result = runner.invoke(app, ["interpret", str(export), "-o", str(streamed)])
    assert result.exit_code == 0, result.output
    expected, got = pd.read_csv(whole, dtype=str), pd.read_csv(streamed, dtype=str)
    pd.testing.assert_frame_equal(got, expected)
    inputs = got[got["status"] != "derived"]
    assert inputs["patient_id"].tolist() == [f"P{n:03d}" for n in range(40)]
    assert inputs["source_row"].astype(int).tolist() == [*range(2, 38), *range(38 + 1, 42 + 1)]


@pytest.mark.filterwarnings(UNUSED_COLUMNS)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_streamed_source_row_is_the_line_a_record_starts_on(tmp_path: Path, newline: str) -> None:
    """Blank lines (before the header too), quoted line breaks and every batch size.

    The streamed ``source_row`` is the file line where each record starts, as in memory.
    """
    text = newline.join(
        [
            "",
            "Pasient-ID;Analyse;Resultat;Kommentar",
            "P1;S-Magnesium;0,82;",
            "",
            "",
            'P2;S-Magnesium;0,90;"first line',
            'second ""line"""',
            "P3;S-Magnesium;0,70;5'11\"",
            "  ",
            "P4;S-Magnesium;0,75;x",
        ]
    )
    export = tmp_path / "export.csv"
    export.write_bytes(text.encode("utf-8"))
    whole = labinterp.read_csv(export)
    assert whole["source_row"].tolist() == [3, 6, 8, 10]
    assert whole["Kommentar"].tolist()[1:3] == [
        'first line\nsecond "line"'.replace("\n", newline),
        "5'11\"",
    ]
    for lines in range(1, 12):
        batches = [frame for frame, _ in stream.iter_csv(export, batch_lines=lines)]
        pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), whole)


def test_a_trailing_delimiter_is_judged_by_the_first_row_in_every_batch(tmp_path: Path) -> None:
    """Rows ending in an empty field are read so in every batch.

    A later row without it is refused when streamed exactly as in memory, naming its line.
    """
    rows = [f"P{n};S-Magnesium;0,8{n};mmol/L;" for n in range(6)]
    rows[4] = rows[4].rstrip(";")  # line 6 lacks the trailing delimiter
    export = tmp_path / "export.csv"
    export.write_text("Pasient-ID;Analyse;Resultat;Enhet\n" + "\n".join(rows) + "\n")
    with pytest.raises(ReadError) as whole:
        labinterp.read_csv(export)
    assert "line 6:" in str(whole.value)
    for lines in (1, 2, 4):
        with pytest.raises(ReadError) as streamed:
            list(stream.iter_csv(export, batch_lines=lines))
        assert str(streamed.value) == str(whole.value)
    rows[4] += ";"
    export.write_text("Pasient-ID;Analyse;Resultat;Enhet\n" + "\n".join(rows) + "\n")
    batches = [frame for frame, _ in stream.iter_csv(export, batch_lines=1)]
    streamed_frame = pd.concat(batches, ignore_index=True)
    pd.testing.assert_frame_equal(streamed_frame, labinterp.read_csv(export))
    assert streamed_frame["raw_unit"].eq("mmol/L").all()
    assert streamed_frame["patient_id"].tolist() == [f"P{n}" for n in range(6)]


@pytest.mark.filterwarnings(UNUSED_COLUMNS)
def test_a_delimiter_records_cannot_be_found_by_is_read_whole(tmp_path: Path) -> None:
    """A delimiter given that is not one ASCII character: the file is one batch."""
    export = tmp_path / "export.csv"
    export.write_text(
        'Analyse¦Resultat¦Kommentar\nS-Magnesium¦0,82¦5\'11"\nS-Magnesium¦0,9¦"a\nb"\n',
        encoding="utf-8",
    )
    batches = [frame for frame, _ in stream.iter_csv(export, batch_lines=1, delimiter="¦")]
    assert len(batches) == 1
    pd.testing.assert_frame_equal(batches[0], labinterp.read_csv(export, delimiter="¦"))
    assert batches[0]["Kommentar"].tolist() == ["5'11\"", "a\nb"]


def test_record_ends_past_many_stray_quotes_in_linear_time() -> None:
    """200,000 records each with a stray quote and a quoted field: one pass, not quadratic.

    A search per stray quote over all the quotes would take minutes here.
    """
    records = 200_000
    data = ('P1;5\'11";"a;b";x""\n' * records).encode()
    found = record_breaks(data, ";")
    assert len(found.ends) == records and not found.open_quote
    assert found.ends[-1] == len(data)


def test_grouping_is_told_apart_across_batches_and_within_one() -> None:
    from labinterp.stream import Grouping, _note_groups

    grouped = Grouping()
    _note_groups(pd.Series(["a", "a", "b", ""]), grouped)
    _note_groups(pd.Series(["c", "c", "d"]), grouped)
    assert grouped.grouped
    again = Grouping()
    _note_groups(pd.Series(["a", "b"]), again)
    _note_groups(pd.Series(["c", "a"]), again)  # a's run had ended: seen again
    assert not again.grouped
    within = Grouping()
    _note_groups(pd.Series(["a", "b", "a"]), within)
    assert not within.grouped
