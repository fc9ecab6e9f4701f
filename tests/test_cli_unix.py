"""The command line behaves as shell users expect: pipes, exit codes, formats, messages."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import labinterp
from labinterp.cli import app

from .conftest import DATA, EXAMPLES

runner = CliRunner()
NORDIC = EXAMPLES / "nordic_export.csv"


def _command(*args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """Run ``labinterp`` as its own process (standard output and error kept apart)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "labinterp.cli", *args],
        capture_output=True,
        env=env,
        check=False,
        timeout=300,
        **kwargs,
    )


def test_dash_reads_stdin_and_writes_stdout_with_only_data_on_stdout() -> None:
    """``cat export.csv | labinterp interpret - -o -``: rows on stdout, the summary on stderr."""
    done = _command("interpret", "-", "-o", "-", input=NORDIC.read_bytes())
    assert done.returncode == 0, done.stderr
    from io import BytesIO

    rows = pd.read_csv(BytesIO(done.stdout))
    assert (rows["status"] != "derived").sum() == len(labinterp.read_csv(NORDIC))
    assert b"rows read and interpreted" in done.stderr
    assert b"rows read" not in done.stdout and b"written to" not in done.stderr


def test_dash_as_output_writes_no_file_named_dash(tmp_path: Path) -> None:
    """``-o -`` is standard output, never a file called ``-``."""
    done = _command("interpret", str(NORDIC), "-o", "-", "--quiet", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(b'"source_row"')
    assert list(tmp_path.iterdir()) == [] and done.stderr == b""


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``| head`` closing the pipe ends the run with 141 (as SIGPIPE would) and no message."""
    lines = NORDIC.read_bytes().splitlines()
    big = tmp_path / "big.csv"
    big.write_bytes(b"\n".join([lines[0], *(lines[1:] * 3000)]) + b"\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, "-m", "labinterp.cli", "interpret", str(big), "-o", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()
        error = process.stderr.read()
        assert process.wait(timeout=300) == 141
    assert error == b""


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("out.parquet", lambda p: len(pd.read_parquet(p)) == _interpreted_rows()),
        ("out.jsonl", lambda p: len(pd.read_json(p, lines=True)) == _interpreted_rows()),
        ("out.json", lambda p: len(labinterp.read_fhir(p)) > 0),
        ("out.csv", lambda p: len(pd.read_csv(p)) == _interpreted_rows()),
    ],
)
def test_output_format_follows_the_file_name(tmp_path: Path, name: str, check: object) -> None:
    """``-o out.parquet`` writes Parquet, ``.jsonl`` JSON lines, ``.json`` a FHIR Bundle."""
    out = tmp_path / name
    result = runner.invoke(app, ["interpret", str(NORDIC), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert check(out)  # type: ignore[operator]


def test_format_option_overrides_the_file_name(tmp_path: Path) -> None:
    """``--format`` says otherwise than the name: the option wins."""
    out = tmp_path / "out.data"
    result = runner.invoke(app, ["interpret", str(NORDIC), "-o", str(out), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert len(pd.read_json(out, lines=True)) == _interpreted_rows()


@lru_cache(maxsize=1)
def _interpreted_rows() -> int:
    """Rows the example gives in Python: every input row and every derived one."""
    return len(labinterp.interpret(labinterp.read_csv(NORDIC)))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-o", "out.txt"], "cannot tell the output format"),
        (["-o", "out.html"], "labinterp report"),
        (["-o", "-", "--format", "parquet"], "needs a file"),
        (["-o", "out.csv", "--lang", "xx"], "'xx' is not one of"),
        (["-o", "out.csv", "--audience", "everyone"], "'everyone' is not one of"),
        (["-o", "out.csv", "--encoding", "no-such-codec"], "unknown encoding"),
        (["-o", "out.csv", "--sex-map", "1"], "KEY=VALUE"),
        (["-o", "out.csv", "--timezone", "Mars/Olympus"], ""),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], words: str) -> None:
    """A bad option or value is a usage error: exit 2, nothing written."""
    result = runner.invoke(app, ["interpret", str(NORDIC), *args], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert not (tmp_path / "out.csv").exists()


def test_choices_come_from_the_catalogue() -> None:
    """--lang offers the text catalogues, --audience the catalogue's audiences."""
    from labinterp.catalogue import AUDIENCES, text_catalogue
    from labinterp.cli_options import AudienceName, LangName

    assert [a.value for a in AudienceName] == list(AUDIENCES)
    assert {lang.value for lang in LangName} == {"en", "nb", "sv"}
    for lang in LangName:
        assert text_catalogue(lang.value)


def test_runtime_failures_exit_1_and_a_strict_stop_too(tmp_path: Path) -> None:
    """An unreadable export and a --strict stop exit 1, each with one line on stderr."""
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"just one column\nno values here\n")
    result = runner.invoke(app, ["interpret", str(bad)])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    out = tmp_path / "o.csv"
    strict = runner.invoke(app, ["interpret", str(NORDIC), "--strict", "-o", str(out)])
    assert strict.exit_code == 1 and "could not be interpreted" in strict.output


def test_a_directory_as_input_is_an_input_error(tmp_path: Path) -> None:
    """A folder given as INPUT says so (not an output-write error)."""
    result = runner.invoke(app, ["interpret", str(tmp_path), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "is a directory; INPUT must be a file" in result.output
    assert "cannot write" not in result.output


def test_file_names_are_printed_literally(tmp_path: Path) -> None:
    """Names holding ``[...]`` are not read as console markup (``[/x]`` used to crash)."""
    folder = tmp_path / "a["
    folder.mkdir()
    source = folder / "x] export.csv"  # the path holds "[/x]"
    source.write_bytes(NORDIC.read_bytes())
    out = folder / "[bold]out.csv"
    result = runner.invoke(app, ["interpret", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"written to {out}" in result.output.replace("\n", "")
    missing = runner.invoke(app, ["interpret", str(folder / "red]gone.csv")])
    assert missing.exit_code == 2 and "a[/red]gone.csv: no such file" in missing.output


def test_the_missing_extra_hint_keeps_its_brackets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The install hint reads ``pip install 'labinterp[hl7]'`` (brackets not eaten as markup)."""
    import labinterp.cli as cli

    def no_extra(*args: object, **kwargs: object) -> object:
        raise ImportError("No module named 'hl7'")

    monkeypatch.setattr(cli, "read_batches", no_extra)
    result = runner.invoke(app, ["interpret", str(NORDIC)])
    assert result.exit_code == 1
    assert "pip install 'labinterp[hl7]'" in result.output
    assert "pip install 'labinterp[fhir]'" in result.output


def test_help_shows_no_bool_placeholder() -> None:
    """``--help`` lists flags without a ``<bool>`` type, and names the exit codes."""
    for command in ([], ["interpret"], ["report"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "<bool>" not in result.output and "bool" not in result.output
    assert "2 usage error" in runner.invoke(app, ["--help"]).output


def test_quiet_prints_nothing_on_success_and_verbose_tells_more(tmp_path: Path) -> None:
    """--quiet: no summary, no 'written to'; --verbose: what is written and each batch."""
    quiet = runner.invoke(app, ["interpret", str(NORDIC), "-q", "-o", str(tmp_path / "a.csv")])
    assert quiet.exit_code == 0 and quiet.output == ""
    loud = runner.invoke(app, ["interpret", str(NORDIC), "-v", "-o", str(tmp_path / "b.csv")])
    assert loud.exit_code == 0 and "writing csv to" in loud.output and "batch 1:" in loud.output


def test_encoding_and_sex_map_reach_the_csv_reader(tmp_path: Path) -> None:
    """--encoding and --sex-map give what ``labinterp.read_csv`` gives with the same options."""
    source = tmp_path / "coded.csv"
    # Code page 865 (Nordic DOS): "ø" is a byte that cp1252, the detected fallback, reads
    # otherwise, so the sex column is found only with the encoding given.
    source.write_bytes(
        "Pasient;Kjønn;Alder;Analyse;Resultat;Enhet\nP1;2;54;S-Kreatinin;80;µmol/L\n".encode(
            "cp865"
        )
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app,
        [
            "interpret",
            str(source),
            "-o",
            str(out),
            "--encoding",
            "cp865",
            "--sex-map",
            "1=male",
            "--sex-map",
            "2=female",
        ],
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    expected = labinterp.read_csv(source, encoding="cp865", sex_map={"1": "male", "2": "female"})
    assert written.loc[0, "sex"] == expected.loc[0, "sex"] == "female"


def test_code_map_and_columns_run_a_lab_export(tmp_path: Path) -> None:
    """--code-map and --column read an export with local codes, as in Python."""
    source = tmp_path / "lab.csv"
    source.write_text("itemid,val,uom\n50912,1.1,mg/dL\n", encoding="utf-8")
    codes = tmp_path / "codes.csv"
    codes.write_text("code,analyte\n50912,creatinine\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    options = ["--column", "itemid=source_code", "--column", "val=raw_value"]
    options += ["--column", "uom=raw_unit", "--code-map", str(codes)]
    result = runner.invoke(app, ["interpret", str(source), "-o", str(out), *options])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out).loc[0, "analyte"] == "creatinine"


def test_report_takes_stdin_and_refuses_its_input_as_output(tmp_path: Path) -> None:
    """``labinterp report -`` reads standard input; ``-o`` over the export is refused."""
    out = tmp_path / "r.html"
    result = runner.invoke(
        app, ["report", "-", "--patient", "P001", "-o", str(out)], input=NORDIC.read_bytes()
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    export = tmp_path / "export.csv"
    export.write_bytes(NORDIC.read_bytes())
    refused = runner.invoke(app, ["report", str(export), "--patient", "P001", "-o", str(export)])
    assert refused.exit_code == 2 and "is the input file" in refused.output
    assert export.read_bytes() == NORDIC.read_bytes()


def test_hl7_input_still_reads_from_a_file(tmp_path: Path) -> None:
    """Content detection is unchanged: an HL7 v2 file runs to JSON lines by its name."""
    source = DATA / "hl7" / "winpath_incremental_orders_05_oru_r01.txt"
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["interpret", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(pd.read_json(out, lines=True)) >= len(labinterp.read(source))
