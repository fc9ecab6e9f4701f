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

from __future__ import annotations

import importlib
import sys
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, cast

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
from labinterp.vocab import Flag, Sex, Status

if TYPE_CHECKING:  # the names below are imported on first use (see __getattr__)
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    from labinterp.catalogue import load_range_catalogue, sources
    from labinterp.engine import interpret
    from labinterp.io.readers.csv import read_csv
    from labinterp.io.readers.detect import read
    from labinterp.io.readers.fhir import parse_fhir, read_fhir
    from labinterp.io.readers.hl7 import parse_hl7, read_hl7
    from labinterp.io.writers.fhir import to_fhir, to_fhir_json, to_fhir_ndjson
    from labinterp.io.writers.html import Report, report
    from labinterp.models import Finding
    from labinterp.results import failures, findings
    from labinterp.single import interpret_one, interpret_panel
    from labinterp.steps.history import history
    from labinterp.units import convert, ureg

#: The package's version; the build reads it from here (``[tool.hatch.version]``).
__version__ = "0.1.0"

# ``import labinterp`` (and so the ``labinterp`` command, whose module lives in this
# package) imports no pandas, pint, pyarrow or engine: each public name below is imported
# from its module on first use. This takes ``labinterp --version`` from about 1 s to the
# start-up of typer alone.
#: The module of each public name imported on first use.
_LAZY = {
    "load_range_catalogue": "labinterp.catalogue",
    "sources": "labinterp.catalogue",
    "interpret": "labinterp.engine",
    "read": "labinterp.io.readers.detect",
    "read_csv": "labinterp.io.readers.csv",
    "Report": "labinterp.io.writers.html",
    "report": "labinterp.io.writers.html",
    "Finding": "labinterp.models",
    "failures": "labinterp.results",
    "findings": "labinterp.results",
    "interpret_one": "labinterp.single",
    "interpret_panel": "labinterp.single",
    "history": "labinterp.steps.history",
    "convert": "labinterp.units",
    "ureg": "labinterp.units",
}
#: Readers and writers whose libraries are optional extras, and the extra of each.
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
    """Import a public name from its module when first used.

    The HL7 v2 and FHIR readers and writers say which extra they need when its
    library is missing.
    """
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _OPTIONAL:
        module_name, extra = _OPTIONAL[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ImportError(
                f"labinterp.{name} needs the [{extra}] extra: pip install 'labinterp[{extra}]'"
            ) from exc
        value = getattr(module, name)
    else:
        raise AttributeError(f"module 'labinterp' has no attribute {name!r}")
    globals()[name] = value  # later uses do not come here again
    return value


def __dir__() -> list[str]:
    """List the public names with the module's own, imported or not."""
    return sorted(set(globals()) | set(__all__))


class _AccessorWhenPandasLoads:
    """Register ``df.labinterp`` as soon as pandas is imported, without importing it here.

    ``import labinterp`` before ``import pandas`` (the usual order) still gives every
    DataFrame the accessor; a process that never uses pandas (``labinterp --help``)
    never loads it. It is a finder on :data:`sys.meta_path` and pandas' loader in one
    (the protocols of :mod:`importlib.abc`, whose import would cost more than this).
    """

    def __init__(self) -> None:
        self._loader: Loader | None = None

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """Find pandas with the other finders and load it through :meth:`exec_module`."""
        if fullname != "pandas":
            return None
        # Asked by the other finders alone; this finder stays until pandas is really
        # loaded (exec_module): a spec that is looked up and thrown away (polars and
        # importlib.util.find_spec do that) must not cost the accessor.
        at = sys.meta_path.index(self)
        sys.meta_path.remove(self)
        try:
            spec = find_spec(fullname)
        finally:
            sys.meta_path.insert(at, self)
        if spec is None or spec.loader is None:
            return spec
        self._loader, spec.loader = spec.loader, cast("Loader", self)
        return spec

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        """Create the module as pandas' own loader does."""
        assert self._loader is not None
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        """Run pandas, give it back its own loader, then register the accessor."""
        assert self._loader is not None
        if self in sys.meta_path:
            sys.meta_path.remove(self)  # pandas is loading: once only
        self._loader.exec_module(module)
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        importlib.import_module("labinterp.pandas")


if "pandas" in sys.modules:
    importlib.import_module("labinterp.pandas")  # registers df.labinterp
else:
    sys.meta_path.insert(0, _AccessorWhenPandasLoads())

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
