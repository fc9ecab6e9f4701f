"""labinterp: interpret blood-test exports with units, reference ranges, flags and cited text.

Public API
----------
read
    Read any supported export (CSV, HL7 v2, FHIR R4), detecting the format.
read_csv, read_hl7, read_fhir
    Read one format into the results frame.
to_fhir
    Write an interpreted frame as a FHIR R4 Bundle of Observations.
to_fhir_ndjson
    Write an interpreted frame as FHIR NDJSON (Bulk Data), one resource per line.
interpret
    Interpret a results frame (vectorised; every row kept).
interpret_one
    Interpret a single result and return a :class:`Finding`.
interpret_panel
    Interpret the results of one sample (with derived eGFR and context caveats)
    and return a list of :class:`Finding`.
findings
    The rows of an interpreted frame as :class:`Finding` objects.
convert
    Convert lab values between units (analyte-aware).
failures
    The rows of an interpreted frame that could not be interpreted.
history
    Serial changes with reference change values.
report
    A patient's results as a self-contained HTML report.
"""

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from labinterp import pandas as _pandas_accessor  # registers df.labinterp
from labinterp.catalogue import load_range_catalogue
from labinterp.catalogue import sources as sources
from labinterp.engine import interpret
from labinterp.errors import (
    CatalogueError,
    IncompatibleUnitError,
    InvalidResultError,
    LabinterpError,
    LabinterpWarning,
    MissingColumnError,
    ReadError,
    ReasonCode,
    UnitError,
    UnitsRequiredError,
    UnknownAnalyteError,
    UnknownUnitError,
)
from labinterp.io import read, read_csv
from labinterp.io.writers.html import Report, report
from labinterp.models import Finding
from labinterp.results import failures, findings
from labinterp.single import interpret_one, interpret_panel
from labinterp.steps.history import history
from labinterp.units import convert, ureg
from labinterp.vocab import Flag, Sex, Status

try:
    __version__ = version("labinterp")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"

del _pandas_accessor

#: Readers and writers whose libraries are optional extras, imported on first use.
_OPTIONAL = {
    "read_hl7": ("labinterp.io.readers.hl7", "hl7"),
    "parse_hl7": ("labinterp.io.readers.hl7", "hl7"),
    "read_fhir": ("labinterp.io.readers.fhir", "fhir"),
    "parse_fhir": ("labinterp.io.readers.fhir", "fhir"),
    "to_fhir": ("labinterp.io.writers.fhir", "fhir"),
    "to_fhir_json": ("labinterp.io.writers.fhir", "fhir"),
    "to_fhir_ndjson": ("labinterp.io.writers.fhir", "fhir"),
}


def __getattr__(name: str) -> Any:
    """Import the HL7 v2 and FHIR readers and writers when first used."""
    if name not in _OPTIONAL:
        raise AttributeError(f"module 'labinterp' has no attribute {name!r}")
    module_name, extra = _OPTIONAL[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"labinterp.{name} needs the [{extra}] extra: pip install 'labinterp[{extra}]'"
        ) from exc
    return getattr(module, name)


__all__ = [
    "CatalogueError",
    "Finding",
    "Flag",
    "IncompatibleUnitError",
    "InvalidResultError",
    "LabinterpError",
    "LabinterpWarning",
    "MissingColumnError",
    "ReadError",
    "ReasonCode",
    "Report",
    "Sex",
    "Status",
    "UnitError",
    "UnitsRequiredError",
    "UnknownAnalyteError",
    "UnknownUnitError",
    "__version__",
    "convert",
    "failures",
    "findings",
    "history",
    "interpret",
    "interpret_one",
    "interpret_panel",
    "load_range_catalogue",
    "parse_fhir",
    "parse_hl7",
    "read",
    "read_csv",
    "read_fhir",
    "read_hl7",
    "report",
    "sources",
    "to_fhir",
    "to_fhir_json",
    "to_fhir_ndjson",
    "ureg",
]
