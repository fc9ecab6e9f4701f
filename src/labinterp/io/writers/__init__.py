"""Writers of interpreted frames: CSV, Parquet, JSON lines, FHIR R4 and HTML.

:func:`write` writes a frame in any of the formats the command line writes, with the
same bytes; :class:`BatchWriter` writes a large run batch by batch. Each format also has
its own function: :func:`write_csv`, :func:`write_parquet`, :func:`write_jsonl`, and,
with the ``[fhir]`` extra, :func:`labinterp.io.writers.fhir.write_fhir` (and
:func:`labinterp.to_fhir` for the Bundle itself). :func:`labinterp.report` builds a
patient's HTML report (:mod:`labinterp.io.writers.html`). Files are written under a
temporary name and renamed into place when complete.
"""

from labinterp.io.writers.batches import FORMATS, BatchWriter, Format, write
from labinterp.io.writers.csv import TABLE_TEXT_COLUMNS, Texts, texts_path, write_csv
from labinterp.io.writers.jsonl import write_jsonl
from labinterp.io.writers.parquet import write_parquet

__all__ = [
    "FORMATS",
    "TABLE_TEXT_COLUMNS",
    "BatchWriter",
    "Format",
    "Texts",
    "texts_path",
    "write",
    "write_csv",
    "write_jsonl",
    "write_parquet",
]
