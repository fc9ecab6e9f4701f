"""The streamed reader decides a file's layout from the start of its first piece."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import labinterp
from labinterp import stream
from labinterp.io.readers.csv_fields import SNIFF_CHARS

#: Bytes past which the first data row lies in these files (the streamed reader looks
#: at the first piece's start first, then at twice as much, and so on).
FAR = 4 * SNIFF_CHARS + 2


@pytest.mark.parametrize("shift", [-3, -2, -1, 0, 1, 2])
def test_a_first_row_far_into_the_first_piece_gives_the_layout(tmp_path: Path, shift: int) -> None:
    """Blank lines before the first row, a CRLF at the edge of what is looked at first.

    The first row ends in an empty field (a delimiter at the end), so every row must:
    the streamed frame is the frame read whole.
    """
    blank = b"\r\n" * ((FAR + shift) // 2) + b" " * ((FAR + shift) % 2 + 1) + b"\r\n"
    rows = b"".join(f"P{n};S-Magnesium;0,8{n};mmol/L;\r\n".encode() for n in range(5))
    export = tmp_path / "export.csv"
    export.write_bytes(b"Pasient-ID;Analyse;Resultat;Enhet\r\n" + blank + rows)
    whole = labinterp.read_csv(export)
    assert whole["raw_unit"].eq("mmol/L").all()
    for lines in (1, 10**6):
        batches = [frame for frame, _ in stream.iter_csv(export, batch_lines=lines)]
        pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), whole)


@pytest.mark.filterwarnings("ignore:.*not used for interpretation")
def test_a_first_row_longer_than_the_start_looked_at(tmp_path: Path) -> None:
    """A quoted field with line breaks, longer than the first look, in the first row.

    (Under the csv module's field limit of 131,072 characters: 10 bytes in 4.)
    """
    note = "😀😀\r\n" * (FAR // 10 + 1)
    text = f'Pasient-ID;Analyse;Resultat;Merknad\nP1;S-Magnesium;0,82;"{note}";\nP2;CRP;4;x;\n'
    export = tmp_path / "export.csv"
    export.write_bytes(text.encode("utf-8"))
    whole = labinterp.read_csv(export)
    assert whole["Merknad"].tolist() == [note, "x"]
    batches = [frame for frame, _ in stream.iter_csv(export, batch_lines=10**6)]
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), whole)
