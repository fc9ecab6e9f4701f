"""Nothing written can hurt: safe temporary files, whole files, no input overwritten."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import labinterp
from labinterp.cli import app
from labinterp.io.writers import files
from labinterp.io.writers.csv import write_rows
from labinterp.io.writers.files import (
    SameFileError,
    create_partial,
    refuse_same_file,
    replaced_when_done,
)
from labinterp.io.writers.safe import neutralise_formulas

from .conftest import EXAMPLES

runner = CliRunner()
NORDIC = EXAMPLES / "nordic_export.csv"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def test_formulas_in_header_cells_are_neutralised(tmp_path: Path) -> None:
    """A header cell starting like a formula gets the leading quote, as text cells do."""
    frame = pd.DataFrame({'=HYPERLINK("x")': ["=1+1"], "-1": ["ok"], "plain": ["-2,5"]})
    out = tmp_path / "out.csv"
    write_rows(frame, out, header=True)
    header, row = out.read_text(encoding="utf-8").splitlines()
    assert header == '"\'=HYPERLINK(""x"")","-1","plain"'  # "-1" is a number, not a formula
    assert row == '"\'=1+1","ok","-2,5"'
    assert list(neutralise_formulas(frame).columns) == ['\'=HYPERLINK("x")', "-1", "plain"]


def test_temporary_names_are_unpredictable_and_exclusive(tmp_path: Path) -> None:
    """Two temporary files for one target differ; a planted symlink is never written through."""
    target = tmp_path / "out.csv"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (tmp_path / ".out.csv.partial").symlink_to(victim)  # the name used before
    first, one = create_partial(target)
    second, two = create_partial(target)
    one.close()
    two.close()
    assert first != second and first.parent == second.parent == tmp_path
    assert not first.is_symlink() and not second.is_symlink()
    for partial in (first, second):
        assert partial.name.startswith(".out.csv.") and partial.name.endswith(".partial")
        files.remove_partial(partial)
    result = runner.invoke(app, ["interpret", str(NORDIC), "-o", str(target)])
    assert result.exit_code == 0
    assert victim.read_text(encoding="utf-8") == "keep"


def test_a_new_file_gets_the_mode_umask_allows_and_a_replaced_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    """The temporary file is private while written; the finished file is an ordinary one."""
    mask = os.umask(0o022)
    try:
        target = tmp_path / "out.html"
        with replaced_when_done(target) as partial:
            assert stat.S_IMODE(partial.stat().st_mode) == 0o600
            partial.write_text("x", encoding="utf-8")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        target.chmod(0o640)
        with replaced_when_done(target) as partial:
            partial.write_text("y", encoding="utf-8")
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
    finally:
        os.umask(mask)


def test_the_output_is_never_the_input(tmp_path: Path) -> None:
    """Same path, a symbolic link or a hard link to the input: refused, the input untouched."""
    export = tmp_path / "export.csv"
    export.write_bytes(NORDIC.read_bytes())
    (tmp_path / "link.csv").symlink_to(export)
    os.link(export, tmp_path / "hard.csv")
    for name in ("export.csv", "link.csv", "hard.csv", "./export.csv"):
        with pytest.raises(SameFileError):
            refuse_same_file(tmp_path / name, export)
        result = runner.invoke(app, ["interpret", str(export), "-o", str(tmp_path / name)])
        assert result.exit_code == 2 and "is the input file" in result.output
    texts = runner.invoke(
        app,
        [
            "interpret",
            str(export),
            "-o",
            str(tmp_path / "export"),
            "--format",
            "csv",
            "--texts",
            "table",
        ],
    )  # export -> export.texts.csv is not the input; the output name has no suffix
    assert texts.exit_code == 0, texts.output
    assert export.read_bytes() == NORDIC.read_bytes()
    refuse_same_file(tmp_path / "other.csv", export)  # another name is fine


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl", "json"])
def test_a_full_disk_is_one_line_exit_1_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """A write that fails (disk full) is reported in one line, exit 1, no file left."""
    real = files.finish

    def full(partial: Path, path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files, "finish", full)
    out = tmp_path / f"out.{fmt}"
    result = runner.invoke(app, ["interpret", str(NORDIC), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert result.output.strip() == f"error: cannot write {out} (No space left on device)."
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(files, "finish", real)


def test_a_read_only_folder_is_one_line_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that cannot be written to (read-only file system): one line, exit 1."""

    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["interpret", str(NORDIC), "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: cannot write {out} (Read-only file system)."


def test_report_is_written_whole_and_a_failure_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``report`` writes under a temporary name; a full disk leaves the old report alone."""
    out = tmp_path / "report.html"
    out.write_text("old report", encoding="utf-8")

    def full(partial: Path, path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files, "finish", full)
    result = runner.invoke(app, ["report", str(NORDIC), "--patient", "P001", "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: cannot write {out} (No space left on device)."
    assert out.read_text(encoding="utf-8") == "old report" and _leftovers(tmp_path) == []


_SLOW_RUN = textwrap.dedent(
    """
    import signal, sys, time
    import labinterp.cli as cli

    # Python's own Ctrl-C handling, even where the parent ignores SIGINT (background jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)

    real = cli.interpret_frame

    def slow(frame, **options):
        time.sleep(0.5)
        return real(frame, **options)

    cli.CHUNK_ROWS = 3
    cli.interpret_frame = slow
    cli.app(["interpret", sys.argv[1], "-o", sys.argv[2]] + sys.argv[3:])
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
@pytest.mark.parametrize("extra", [[], ["--texts", "table"]])
def test_a_signal_removes_the_temporary_files(
    tmp_path: Path, signum: int, extra: list[str]
) -> None:
    """SIGTERM, SIGHUP and SIGINT in the middle of a run leave no temporary file and no output."""
    out = tmp_path / "out.csv"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, "-c", _SLOW_RUN, str(NORDIC), str(out), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as process:
        deadline = time.monotonic() + 120
        while not _leftovers(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _leftovers(tmp_path), "the run never started writing"
        process.send_signal(signum)
        code = process.wait(timeout=120)
    assert code == (130 if signum == signal.SIGINT else 128 + signum)
    assert list(tmp_path.iterdir()) == []


def test_tracebacks_never_show_local_variables(tmp_path: Path) -> None:
    """A crash prints a traceback without the locals (a patient id, a value) of any frame."""
    assert app.pretty_exceptions_show_locals is False
    script = textwrap.dedent(
        """
        import sys
        import labinterp.cli as cli

        def crash(frame, **options):
            patient_secret = "PID-0401-SECRET"
            raise RuntimeError("boom")

        cli.interpret_frame = crash
        cli.app(["interpret", sys.argv[1], "-o", sys.argv[2]])
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(NORDIC), str(tmp_path / "out.csv")],
        env=env,
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1
    assert b"RuntimeError" in done.stderr and b"boom" in done.stderr
    assert b"PID-0401-SECRET" not in done.stderr and b"patient_secret" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def _fake_ndjson(frames: Iterable[pd.DataFrame], path: Path) -> Path:
    """Stand-in for the Bulk FHIR writer: one line per row, written whole."""
    with replaced_when_done(path) as partial, partial.open("w", encoding="utf-8") as handle:
        for frame in frames:
            for row in frame.itertuples():
                handle.write(f'{{"resourceType":"Observation","id":"{row.Index}"}}\n')
    return path


def test_ndjson_output_streams_batches_to_the_fhir_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-o out.ndjson`` hands every batch, in order, to ``write_fhir_ndjson``."""
    import labinterp.cli as cli
    import labinterp.io.writers.fhir as fhir

    seen: list[int] = []

    def recording(frames: Iterable[pd.DataFrame], path: Path) -> Path:
        def counted() -> Iterable[pd.DataFrame]:
            for frame in frames:
                seen.append(len(frame))
                yield frame

        return _fake_ndjson(counted(), path)

    monkeypatch.setattr(fhir, "write_fhir_ndjson", recording, raising=False)
    monkeypatch.setattr(cli, "CHUNK_ROWS", 4)
    out = tmp_path / "out.ndjson"
    result = runner.invoke(app, ["interpret", str(NORDIC), "-o", str(out)])
    assert result.exit_code == 0, result.output
    expected = len(labinterp.interpret(labinterp.read_csv(NORDIC)))  # inputs and derived rows
    assert len(seen) > 1 and sum(seen) == expected
    assert len(out.read_text(encoding="utf-8").splitlines()) == expected
    dash = runner.invoke(app, ["interpret", str(NORDIC), "--format", "ndjson"])
    assert dash.exit_code == 2 and "needs a file" in dash.output


def test_a_failed_ndjson_run_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A --strict stop in the middle of an NDJSON run removes the writer's temporary file."""
    import labinterp.io.writers.fhir as fhir

    monkeypatch.setattr(fhir, "write_fhir_ndjson", _fake_ndjson, raising=False)
    out = tmp_path / "out.ndjson"
    result = runner.invoke(app, ["interpret", str(NORDIC), "--strict", "-o", str(out)])
    assert result.exit_code == 1
    assert list(tmp_path.iterdir()) == []


def test_the_real_ndjson_writer_when_present(tmp_path: Path) -> None:
    """With ``labinterp.io.writers.fhir.write_fhir_ndjson``: one Observation or Patient a line."""
    import json

    import labinterp.io.writers.fhir as fhir

    if not hasattr(fhir, "write_fhir_ndjson"):
        pytest.skip("write_fhir_ndjson is not in this version")
    out = tmp_path / "out.ndjson"
    result = runner.invoke(app, ["interpret", str(NORDIC), "-o", str(out)])
    assert result.exit_code == 0, result.output
    kinds = {json.loads(line)["resourceType"] for line in out.read_text("utf-8").splitlines()}
    assert "Observation" in kinds
    assert _leftovers(tmp_path) == [] and labinterp.__version__
