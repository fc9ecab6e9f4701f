"""The floor: what an analyst could write instead of labinterp, in DuckDB or Polars.

Usage::

    python bench/floor.py duckdb|polars nordic|us EXPORT OUT.parquet

Reads an export made by ``bench/exports.py`` (its own separator, decimal mark and
encoding), parses the numbers, joins each row's code and sex to a small range table,
flags the value low or high and writes Parquet: the least work that still gives a flag
per row. No units, no sanity checks, no explanations, no derived eGFR: a lower bound on
the time of a whole process that reads, flags and writes the same file, against which
``bench/run.py`` measures ``labinterp interpret``. It prints the rows written; the caller
reads the output afterwards (outside the timed process) to check the work was done.

The range table holds the limits the export's own generator draws around; the values
are test input, not clinical data.
"""

from __future__ import annotations

import sys

from exports import ANALYTES, HEADERS


def _ranges(style: str) -> list[tuple[str, str, float | None, float | None]]:
    """(code, sex, low, high) for every analyte of the style."""
    sexes = ("K", "M") if style == "nordic" else ("F", "M")
    return [
        (t[0], sex, limits[1], limits[2])
        for t in ANALYTES[style].values()
        for sex, limits in zip(sexes, (t[7], t[8]), strict=True)
    ]


def with_duckdb(style: str, source: str, out: str) -> int:
    """Flag and write with DuckDB; return the rows written."""
    import duckdb

    head = HEADERS[style]
    sep, encoding = (";", "latin-1") if style == "nordic" else (",", "utf-8")
    con = duckdb.connect()
    con.execute("CREATE TABLE ranges (code VARCHAR, sex VARCHAR, low DOUBLE, high DOUBLE)")
    con.executemany("INSERT INTO ranges VALUES (?, ?, ?, ?)", _ranges(style))
    value = f"TRY_CAST(replace(e.\"{head[6]}\", ',', '.') AS DOUBLE)"
    copied = con.execute(
        f"""
        COPY (
          SELECT e.*, {value} AS value, r.low, r.high,
                 CASE WHEN {value} < r.low THEN 'L' WHEN {value} > r.high THEN 'H'
                      WHEN {value} IS NOT NULL THEN 'N' END AS computed_flag
          FROM read_csv(?, delim='{sep}', header=true, encoding='{encoding}',
                        all_varchar=true) e
          LEFT JOIN ranges r ON e."{head[4]}" = r.code AND e."{head[1]}" = r.sex
        ) TO '{out}' (FORMAT parquet)
        """,
        [source],
    ).fetchone()
    assert copied is not None
    return int(copied[0])


def with_polars(style: str, source: str, out: str) -> int:
    """Flag and write with Polars; return the rows written."""
    import polars as pl

    head = HEADERS[style]
    sep = ";" if style == "nordic" else ","
    if style == "nordic":
        # Polars reads UTF-8 only: decode the Latin-1 file first.
        with open(source, encoding="latin-1") as f:
            data: object = f.read().encode()
    else:
        data = source
    frame = pl.read_csv(data, separator=sep, infer_schema=False)  # type: ignore[arg-type]
    ranges = pl.DataFrame(_ranges(style), schema=["code", "sex", "low", "high"], orient="row")
    value = pl.col(head[6]).str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    flagged = (
        frame.with_columns(value.alias("value"))
        .join(ranges, left_on=[head[4], head[1]], right_on=["code", "sex"], how="left")
        .with_columns(
            pl.when(pl.col("value") < pl.col("low"))
            .then(pl.lit("L"))
            .when(pl.col("value") > pl.col("high"))
            .then(pl.lit("H"))
            .when(pl.col("value").is_not_null())
            .then(pl.lit("N"))
            .alias("computed_flag")
        )
    )
    flagged.write_parquet(out)
    return flagged.height


if __name__ == "__main__":
    engine, style, source, out = sys.argv[1:5]
    print((with_duckdb if engine == "duckdb" else with_polars)(style, source, out))
