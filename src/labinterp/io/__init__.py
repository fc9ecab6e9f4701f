"""Readers that turn lab exports into the results frame, and writers of interpreted frames.

:mod:`labinterp.io.readers` reads CSV, HL7 v2 and FHIR R4 exports (:func:`read` detects the
format); :mod:`labinterp.io.writers` writes interpreted frames as CSV, Parquet, JSON lines,
FHIR R4 and HTML.
"""

from labinterp.io.readers.csv import apply_code_map, parse_csv, read_csv
from labinterp.io.readers.detect import detect_format, read

__all__ = ["apply_code_map", "detect_format", "parse_csv", "read", "read_csv"]
