from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import labinterp
from labinterp.cli import app

from .conftest import DATA, EXAMPLES

runner = CliRunner()


def test_version() -> None:
    """--version prints the package version."""
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"labinterp {labinterp.__version__}"


def test_help() -> None:
    """--help lists the interpret command."""
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "interpret" in result.output


def test_interpret_writes_every_row(nordic_example, tmp_path) -> None:
    """The CLI writes one output row per input row and summarises statuses."""
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["interpret", str(nordic_example), "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    source = labinterp.read_csv(nordic_example)
    inputs = written[written["status"] != "derived"]
    assert len(inputs) == len(source)
    assert inputs["source_row"].astype(int).tolist() == source["source_row"].tolist()
    derived = set(written.loc[written["status"] == "derived", "analyte"])
    # P005: eGFR with an ACR; P006: calcium with albumin (albumin-corrected calcium)
    assert derived == {"egfr", "ckd_risk", "kfre_2y", "kfre_5y", "calcium_albumin_corrected"}
    assert "rows read and interpreted" in result.output


def test_interpret_us_profile_jsonl(us_example, tmp_path) -> None:
    """The US example runs with --profile us and JSON-lines output."""
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["interpret", str(us_example), "--profile", "us", "--format", "jsonl", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = pd.read_json(out, lines=True)
    assert (written["status"] != "derived").sum() == len(labinterp.read_csv(us_example))


def test_unreadable_input_exits_non_zero(tmp_path) -> None:
    """A missing INPUT is a usage error (2); a file that cannot be read fails the run (1)."""
    result = runner.invoke(app, ["interpret", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2
    assert "error:" in result.output and len(result.output.strip().splitlines()) == 1
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"just one column\nno values here\n")
    result = runner.invoke(app, ["interpret", str(bad)])
    assert result.exit_code == 1
    assert "no result-value column" in result.output


def test_chunked_run_with_progress_equals_one_pass(nordic_example, tmp_path, monkeypatch) -> None:
    """Large inputs are interpreted in chunks (with a progress bar) and give the same rows."""
    import labinterp.cli as cli

    whole = tmp_path / "whole.csv"
    assert runner.invoke(app, ["interpret", str(nordic_example), "-o", str(whole)]).exit_code == 0
    monkeypatch.setattr(cli, "CHUNK_ROWS", 4)
    chunked = tmp_path / "chunked.csv"
    result = runner.invoke(app, ["interpret", str(nordic_example), "-o", str(chunked)])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(whole), pd.read_csv(chunked))


def test_parquet_output(us_example, tmp_path) -> None:
    """--format parquet writes a Parquet file with every row."""
    out = tmp_path / "out.parquet"
    result = runner.invoke(
        app,
        ["interpret", str(us_example), "--profile", "us", "--format", "parquet", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    written = pd.read_parquet(out)
    assert (written["status"] != "derived").sum() == len(labinterp.read_csv(us_example))


def test_site_catalogue_option(nordic_example, tmp_path) -> None:
    """--catalogue points at a site catalogue directory; a broken one exits 1 naming the file."""
    (tmp_path / "catalogue.toml").write_text('name = "x"\n', encoding="utf-8")
    (tmp_path / "ranges.csv").write_text("analyte\n", encoding="utf-8")
    result = runner.invoke(app, ["interpret", str(nordic_example), "--catalogue", str(tmp_path)])
    assert result.exit_code == 1
    assert "catalogue.toml" in result.output


def test_cli_reads_hl7_and_writes_fhir(tmp_path) -> None:
    """The CLI accepts HL7 v2 input and writes a FHIR Bundle that reads back row for row."""
    from .conftest import DATA

    source = DATA / "hl7" / "winpath_incremental_orders_05_oru_r01.txt"
    out = tmp_path / "bundle.json"
    result = runner.invoke(app, ["interpret", str(source), "--format", "fhir", "-o", str(out)])
    assert result.exit_code == 0, result.output
    back = labinterp.read_fhir(out)
    assert back["raw_value"].tolist()[0] == "0.83"
    assert len(back) == len(labinterp.read(source))


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_header_only_file_gives_an_empty_result(tmp_path, suffix) -> None:
    """A file with a header and no results gives an output with every column and no rows."""
    path = tmp_path / "empty.csv"
    path.write_text("Analyse;Resultat;Enhet\n", encoding="utf-8")
    out = tmp_path / f"out.{suffix}"
    result = runner.invoke(app, ["interpret", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "0 rows read and interpreted" in result.output
    if suffix == "csv":
        written = pd.read_csv(out)
        assert {"source_row", "analyte", "status", "flag", "explanation"} <= set(written.columns)
    elif suffix == "parquet":
        written = pd.read_parquet(out)
        assert "status" in written.columns
    else:
        assert out.read_bytes() == b""
    assert len(written if suffix != "jsonl" else []) == 0


@pytest.mark.parametrize("rows", [1, 3, 1000])
def test_csv_pieces_written_in_order_equal_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    """Formatting the rows in pieces in parallel writes exactly what one write would."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    from labinterp.io.writers import csv as csv_writer

    frame = labinterp.interpret(labinterp.read_csv(EXAMPLES / "nordic_export.csv"))
    whole = tmp_path / "whole.csv"
    table = pa.table(
        {str(c): csv_writer.csv_column(frame[c], frame.get(f"{c}_offset")) for c in frame.columns}
    )
    pa_csv.write_csv(table, whole)
    monkeypatch.setattr(csv_writer, "CSV_PIECE_ROWS", rows)
    pieces = tmp_path / "pieces.csv"
    csv_writer.write_rows(frame, pieces, header=True)
    csv_writer.write_rows(frame.head(0), pieces, header=False)  # an empty batch adds nothing
    assert pieces.read_bytes() == whole.read_bytes()


def test_parquet_text_columns_keep_text_and_write_other_objects_as_text() -> None:
    """Object columns become Arrow text: text as it is, other objects as their str."""
    from labinterp.io.writers.arrow import text_array

    assert text_array(pd.Series(["a", None, "ø"], dtype=object)).to_pylist() == [
        "a",
        None,
        "ø",
    ]
    mixed = text_array(pd.Series(["a", 7, None], dtype=object)).to_pylist()
    assert mixed == ["a", "7", None]


@pytest.mark.parametrize(
    ("fmt", "texts"),
    [("csv", "inline"), ("csv", "table"), ("jsonl", "inline"), ("parquet", "inline")],
)
def test_library_writers_write_what_the_cli_writes(tmp_path: Path, fmt: str, texts: str) -> None:
    """labinterp.io.writers.write gives the CLI's output for the same interpreted rows."""
    from labinterp.io.writers import texts_path, write

    header, *rows = (EXAMPLES / "nordic_export.csv").read_bytes().splitlines(keepends=True)
    export = tmp_path / "one_patient.csv"  # one patient: the CLI writes one batch
    export.write_bytes(header + b"".join(row for row in rows if row.startswith(b"P001;")))
    by_cli = tmp_path / f"cli.{fmt}"
    args = ["interpret", str(export), "--format", fmt, "--texts", texts, "-o", str(by_cli)]
    assert runner.invoke(app, args).exit_code == 0
    frame = labinterp.interpret(labinterp.read(export))
    by_library = write(frame, tmp_path / f"library.{fmt}", format=fmt, texts=texts)
    assert not list(tmp_path.glob(".*partial"))
    if fmt == "parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(by_library), pd.read_parquet(by_cli))
        return
    assert by_library.read_bytes() == by_cli.read_bytes()
    if texts == "table":
        assert texts_path(by_library).read_bytes() == texts_path(by_cli).read_bytes()


def test_a_failed_library_write_leaves_the_old_file(tmp_path: Path) -> None:
    """A write that fails removes its partial file and leaves an earlier output as it was."""
    from labinterp.errors import MissingColumnError
    from labinterp.io.writers import write

    target = tmp_path / "bundle.json"
    target.write_text("earlier", encoding="utf-8")
    not_interpreted = labinterp.read_csv(EXAMPLES / "nordic_export.csv")
    with pytest.raises(MissingColumnError):
        write(not_interpreted, target, format="fhir")
    assert target.read_text(encoding="utf-8") == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.json"]


def test_profile_choices_are_the_catalogue_profiles() -> None:
    """--profile offers every profile of the catalogue, and no other."""
    import labinterp.cli_options as cli
    from labinterp.catalogue import profiles

    assert [p.value for p in cli.ProfileName] == list(profiles())
    assert cli.DEFAULT_PROFILE.value == "no"


def test_summary_lists_only_statuses_that_occur(tmp_path) -> None:
    """The summary counts the statuses and flags of the rows, not every possible one."""
    source = DATA / "hl7" / "winpath_ORU_R01.txt"
    result = runner.invoke(
        app, ["interpret", str(source), "-o", str(tmp_path / "out.csv"), "--profile", "us"]
    )
    assert result.exit_code == 0, result.output
    assert "unknown_analyte" in result.output and "ok" in result.output
    for absent in ("ambiguous_value", "implausible_value", "derived", "unparsed_value"):
        assert absent not in result.output


# -- --column and the unused-column warning -------------------------------------------

OWN_HEADERS = "patient_id;Kjønn;Alder;Analyse;Måling;Enhet;Kommentar\n" + "".join(
    f"P{i};K;54;P-Magnesium;0,8{i};mmol/L;note {i}\n" for i in range(9)
)


def test_column_option_maps_a_header(tmp_path, monkeypatch) -> None:
    """--column HEADER=field maps a site's own header; the rest is named once, not per batch."""
    import labinterp.cli as cli

    export = tmp_path / "export.csv"
    export.write_text(OWN_HEADERS, encoding="utf-8")
    monkeypatch.setattr(cli, "CHUNK_ROWS", 2)  # several batches
    out = tmp_path / "out.csv"
    args = ["interpret", str(export), "-o", str(out), "--column", "måling = raw_value"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype=str)
    assert (written["status"] == "ok").all() and len(written) == 9
    assert written["raw_value"].tolist()[:2] == ["0,80", "0,81"]
    assert written["Kommentar"].tolist()[0] == "note 0"  # passed through unchanged
    assert result.output.count("not used for interpretation") == 1
    assert "warning:" in result.output and "'Kommentar'" in result.output
    assert "note 0" not in result.output


def test_column_option_refuses_what_is_not_a_field(tmp_path) -> None:
    """A field name that is not one, or a mapping without '=', exits 2 naming the fields."""
    export = tmp_path / "export.csv"
    export.write_text(OWN_HEADERS, encoding="utf-8")
    for bad in ("Måling=raw_valeu", "Måling"):
        result = runner.invoke(app, ["interpret", str(export), "--column", bad])
        assert result.exit_code == 2, result.output
        for field in ("patient_id", "raw_value", "lab_flag"):
            assert field in result.output, (bad, field)


def test_column_option_on_hl7_input_says_it_is_for_csv(tmp_path) -> None:
    """--column with HL7 v2 input is a one-line error, not a traceback."""
    message = DATA / "hl7" / "winpath_incremental_orders_05_oru_r01.txt"
    result = runner.invoke(app, ["interpret", str(message), "--column", "a=raw_value"])
    assert result.exit_code == 1
    assert "applies to CSV input only" in result.output and "Traceback" not in result.output


def test_report_takes_column_options(tmp_path) -> None:
    """The report command maps headers with --column too, and names the unused ones."""
    export = tmp_path / "export.csv"
    export.write_text(OWN_HEADERS, encoding="utf-8")
    out = tmp_path / "report.html"
    args = [
        "report",
        str(export),
        "--patient",
        "P3",
        "-o",
        str(out),
        "--column",
        "Måling=raw_value",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.exists() and "'Kommentar'" in result.output


def test_summary_groups_results_by_panel(nordic_example, tmp_path) -> None:
    """The closing summary counts results per panel as labs group them, in the language."""
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["interpret", str(nordic_example), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "By panel" in result.output
    written = pd.read_csv(out)
    kidney = written["analyte"].isin(
        ["creatinine", "egfr", "acr", "ckd_risk", "kfre_2y", "kfre_5y"]
    )
    line = next(row for row in result.output.splitlines() if row.strip().startswith("Kidney"))
    assert line.split()[2] == str(int(kidney.sum()))  # "Kidney │ 12 │ 5"
    norsk = runner.invoke(app, ["interpret", str(nordic_example), "-o", str(out), "--lang", "nb"])
    assert "Etter analysegruppe" in norsk.output and "Nyrer" in norsk.output
