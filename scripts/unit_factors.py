"""Write the conversion factors between the alias table's units, as pint computes them.

``python scripts/unit_factors.py`` rewrites ``src/labinterp/data/unit_factors.csv``;
``python scripts/unit_factors.py --check`` writes nothing and exits with status 1 when
the file differs from what pint gives now (the tests run this, so the table cannot go
stale). :func:`labinterp.units.conversion` reads the table, so that a conversion between
these units needs no pint registry at run time; every other conversion asks pint.

One row per (from unit, to unit, analyte) that pint converts: the units are the pint
forms of ``unit_aliases.csv``, the analytes every catalogue analyte without measurement
scales, and none (an empty analyte). Factors are written with :func:`repr`, which reads
back as the same float. The first line holds the SHA-256 of the data files the table is
made from (``labinterp.units.FACTOR_SOURCES``): the table is not used with others.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from labinterp import catalogue
from labinterp.errors import UnitError
from labinterp.units import FACTOR_TABLE, factor_sources_digest, normalise_unit, pint_conversion

TABLE = Path(__file__).resolve().parent.parent / "src" / "labinterp" / "data" / FACTOR_TABLE
HEADER = ("from_unit", "to_unit", "analyte", "factor")


def table() -> str:
    """Return the factor table as CSV text, sorted, computed by pint."""
    aliases = resources.files("labinterp") / "data" / "unit_aliases.csv"
    with aliases.open(encoding="utf-8") as handle:
        spellings = [row["spelling"] for row in csv.DictReader(handle)]
    units = {normalise_unit(spelling) for spelling in spellings}
    analytes = ["", *sorted(key for key, spec in catalogue.analytes().items() if not spec.scales)]
    rows = []
    for analyte in analytes:
        for src in sorted(units, key=lambda unit: unit.pint):
            for dst in sorted(units, key=lambda unit: unit.pint):
                try:
                    factor = pint_conversion(src, dst, analyte or None).scale
                except UnitError:
                    continue
                rows.append((src.pint, dst.pint, analyte, repr(factor)))
    out = io.StringIO()
    out.write(f"# sources sha256 {factor_sources_digest()}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(sorted(rows))
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the table, or with ``--check`` only compare it; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    text = table()
    if args.check:
        if not TABLE.exists() or TABLE.read_text(encoding="utf-8") != text:
            print(f"{TABLE.name} is stale: run python scripts/unit_factors.py", file=sys.stderr)
            return 1
        return 0
    TABLE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
