"""Seeded synthetic lab exports shaped like real ones, for the benchmarks.

Usage::

    python bench/exports.py nordic 1000000 nordic.csv
    python bench/exports.py us 1000000 us.csv

An export lists each patient's samples in time order (grouped by patient), one row per
result, as lab systems write them:

- **nordic**: ``;``-separated, decimal commas, Latin-1 (as Norwegian lab systems export),
  Norwegian headers, NPU/NLK codes and Norwegian analyte names, birth dates and collection
  times as ``dd.mm.yyyy`` and ``dd.mm.yyyy hh:mm``, the lab's reference range and flag;
- **us**: ``,``-separated, UTF-8, LOINC codes and English names, conventional units
  (mg/dL, %, ng/mL), ISO 8601 dates and times.

Collection times are to the minute over one year; a sample holds one of a few common
panels (about 2.2 results on average), so a million rows hold about 450,000 samples.
A few values are censored (``<1``), a few are text (``hemolysert``) and a few cannot be
read (``1,2,3``), as in real exports: about 0.1 % each, so at least 99 % of the rows
must come back ``ok`` (or ``derived``) from a correct interpretation.

The values are drawn from rough population distributions; they are test input, not
clinical data. Large exports are written in blocks of patients, so memory stays small
whatever the size.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: One analyte as a lab writes it: code, name, unit, decimals, mean and SD (women, men)
#: of a normal draw (``log`` draws a log-normal around the mean), the lab's reference
#: range text and limits (women, men).
ANALYTES = {
    "nordic": {
        "mg": (
            "NPU02647",
            "P-Magnesium",
            "mmol/L",
            2,
            (0.82, 0.08),
            (0.82, 0.08),
            False,
            ("0,71 - 0,94", 0.71, 0.94),
            ("0,71 - 0,94", 0.71, 0.94),
        ),
        "crea": (
            "NPU18016",
            "P-Kreatinin",
            "µmol/L",
            0,
            (72, 16),
            (88, 20),
            False,
            ("45 - 90", 45, 90),
            ("60 - 105", 60, 105),
        ),
        "egfr": (
            "NOR25909",
            "Nyre-estimert GFR CKD-EPI Kreatinin (overfl.=1,73m2)",
            "ml/min/1,73 m2",
            0,
            (85, 18),
            (85, 18),
            False,
            (">60", 60, None),
            (">60", 60, None),
        ),
        "a1c": (
            "NPU27300",
            "B-HbA1c",
            "mmol/mol",
            0,
            (40, 9),
            (41, 9),
            False,
            ("20 - 42", 20, 42),
            ("20 - 42", 20, 42),
        ),
        "ferr": (
            "NPU19763",
            "P-Ferritin",
            "µg/L",
            0,
            (70, 0.8),
            (140, 0.7),
            True,
            ("10 - 170", 10, 170),
            ("30 - 400", 30, 400),
        ),
        "vitd": (
            "NPU10267",
            "S-25-OH-Vitamin D",
            "nmol/L",
            0,
            (68, 22),
            (62, 22),
            False,
            ("50 - 150", 50, 150),
            ("50 - 150", 50, 150),
        ),
        "crp": (
            "NPU19748",
            "P-CRP",
            "mg/L",
            0,
            (2.5, 1.2),
            (2.5, 1.2),
            True,
            ("< 5", None, 5),
            ("< 5", None, 5),
        ),
        "alb": (
            "NPU19673",
            "P-Albumin",
            "g/L",
            0,
            (41, 3.5),
            (42, 3.5),
            False,
            ("36 - 45", 36, 45),
            ("36 - 45", 36, 45),
        ),
        "hb": (
            "NPU02319",
            "B-Hemoglobin",
            "g/dL",
            1,
            (13.6, 1.1),
            (15.0, 1.2),
            False,
            ("11,7 - 15,3", 11.7, 15.3),
            ("13,4 - 17,0", 13.4, 17.0),
        ),
    },
    "us": {
        "mg": (
            "19123-9",
            "Magnesium",
            "mg/dL",
            1,
            (2.0, 0.2),
            (2.0, 0.2),
            False,
            ("1.6-2.6", 1.6, 2.6),
            ("1.6-2.6", 1.6, 2.6),
        ),
        "crea": (
            "2160-0",
            "Creatinine",
            "mg/dL",
            2,
            (0.82, 0.18),
            (1.0, 0.22),
            False,
            ("0.59-1.04", 0.59, 1.04),
            ("0.74-1.35", 0.74, 1.35),
        ),
        "egfr": (
            "98979-8",
            "eGFR CKD-EPI 2021",
            "mL/min/1.73m2",
            0,
            (85, 18),
            (85, 18),
            False,
            (">60", 60, None),
            (">60", 60, None),
        ),
        "a1c": (
            "4548-4",
            "Hemoglobin A1c",
            "%",
            1,
            (5.8, 0.8),
            (5.9, 0.8),
            False,
            ("4.0-5.6", 4.0, 5.6),
            ("4.0-5.6", 4.0, 5.6),
        ),
        "ferr": (
            "2276-4",
            "Ferritin",
            "ng/mL",
            0,
            (70, 0.8),
            (140, 0.7),
            True,
            ("11-307", 11, 307),
            ("24-336", 24, 336),
        ),
        "vitd": (
            "62292-8",
            "25-Hydroxyvitamin D2+D3",
            "ng/mL",
            0,
            (28, 9),
            (26, 9),
            False,
            ("30-100", 30, 100),
            ("30-100", 30, 100),
        ),
        "crp": (
            "1988-5",
            "CRP",
            "mg/L",
            1,
            (2.5, 1.2),
            (2.5, 1.2),
            True,
            ("<5.0", None, 5),
            ("<5.0", None, 5),
        ),
        "alb": (
            "1751-7",
            "Albumin",
            "g/dL",
            1,
            (4.1, 0.35),
            (4.2, 0.35),
            False,
            ("3.5-5.0", 3.5, 5.0),
            ("3.5-5.0", 3.5, 5.0),
        ),
        "hb": (
            "718-7",
            "Hemoglobin",
            "g/dL",
            1,
            (13.6, 1.1),
            (15.0, 1.2),
            False,
            ("12.0-15.5", 12.0, 15.5),
            ("13.5-17.5", 13.5, 17.5),
        ),
    },
}
#: Common panels a sample holds, with their share of samples.
PANELS = (
    (("crea", "egfr", "crp", "hb"), 0.16),
    (("a1c",), 0.22),
    (("crp",), 0.18),
    (("hb", "ferr"), 0.12),
    (("vitd",), 0.10),
    (("crea", "egfr"), 0.10),
    (("mg", "crea", "egfr", "alb"), 0.06),
    (("alb", "crp"), 0.06),
)
HEADERS = {
    "nordic": [
        "Pasient-ID",
        "Kjønn",
        "Fødselsdato",
        "Prøvetakingstidspunkt",
        "NPU-kode",
        "Analyse",
        "Resultat",
        "Enhet",
        "Referanseområde",
        "Avvik",
    ],
    "us": [
        "patient_id",
        "sex",
        "date of birth",
        "collection date",
        "loinc",
        "test name",
        "result",
        "units",
        "reference range",
        "flag",
    ],
}
TEXTS = {
    "nordic": ("hemolysert", "Se kommentar", "Ikke analysert"),
    "us": ("Hemolyzed", "See comment", "TNP"),
}
UNREADABLE = {"nordic": "1,2,3", "us": "1.2.3"}
#: Rows per block of patients written at once.
BLOCK_ROWS = 500_000
#: The year of collection.
YEAR = np.datetime64("2026-01-01T00:00", "m")


def _rows(style: str, rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Patients, their samples in time order and each sample's panel, one entry per row."""
    panels = [list(p) for p, _ in PANELS]
    share = np.array([s for _, s in PANELS])
    mean_size = float(np.sum(share * [len(p) for p in panels]))
    samples = max(1, round(rows / mean_size))
    # Samples per patient: 1 + a geometric number, about four on average.
    per_patient = 1 + rng.geometric(0.33, size=max(1, samples // 3))
    per_patient = per_patient[: np.searchsorted(np.cumsum(per_patient), samples) + 1]
    sample_patient = np.repeat(np.arange(len(per_patient)), per_patient)
    minutes = rng.integers(0, 365 * 24 * 60, size=len(sample_patient))
    order = np.lexsort((minutes, sample_patient))
    sample_patient, minutes = sample_patient[order], minutes[order]
    panel = rng.choice(len(panels), size=len(sample_patient), p=share / share.sum())
    sizes = np.array([len(p) for p in panels])[panel]
    starts = np.concatenate([[0], np.cumsum([len(p) for p in panels])[:-1]])
    row_sample = np.repeat(np.arange(len(sample_patient)), sizes)
    within = np.arange(len(row_sample)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    keys = list(ANALYTES[style])
    flat = np.array([keys.index(k) for p in panels for k in p])
    return {
        "analyte": flat[starts[panel][row_sample] + within],
        "patient": sample_patient[row_sample],
        "minutes": minutes[row_sample],
        "patients": np.arange(len(per_patient)),
    }


def _limits(tests: dict[str, tuple], bound: int) -> np.ndarray:
    """Per analyte, (women, men) of one field of the range: 1 low, 2 high (NaN: none)."""
    return np.array(
        [
            [np.nan if t[item][bound] is None else t[item][bound] for item in (7, 8)]
            for t in tests.values()
        ]
    )


def _results(
    style: str, analyte: np.ndarray, male: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's result as the lab writes it, and the lab's flag."""
    tests = ANALYTES[style]
    keys = list(tests)
    n = len(analyte)
    sex = male.astype(int)
    decimals = np.array([t[3] for t in tests.values()])[analyte]
    mean = np.array([[t[4][0], t[5][0]] for t in tests.values()])[analyte, sex]
    sd = np.array([[t[4][1], t[5][1]] for t in tests.values()])[analyte, sex]
    log = np.array([t[6] for t in tests.values()])[analyte]
    value = np.where(log, mean * np.exp(rng.normal(0, 1, n) * sd), rng.normal(mean, sd))
    value = np.maximum(value, 10.0**-decimals)
    value = np.round(value * 10.0**decimals) / 10.0**decimals
    low, high = _limits(tests, 1)[analyte, sex], _limits(tests, 2)[analyte, sex]
    flag = np.where(value < low, "L", np.where(value > high, "H", ""))
    text = np.empty(n, dtype=object)
    for d in np.unique(decimals):
        at = decimals == d
        text[at] = [f"{v:.{d}f}" for v in value[at]]
    if style == "nordic":
        text = np.array([t.replace(".", ",") for t in text], dtype=object)
    over = (analyte == keys.index("egfr")) & (value > 90)
    text[over], flag[over] = ">90", ""
    censored = (analyte == keys.index("crp")) & (value < 0.6) & (rng.random(n) < 0.05)
    text[censored], flag[censored] = "<1" if style == "nordic" else "<1.0", ""
    draw = rng.random(n)
    words = TEXTS[style]
    as_text = draw < 0.001
    text[as_text] = np.array(words, dtype=object)[rng.integers(0, len(words), as_text.sum())]
    unreadable = (draw >= 0.001) & (draw < 0.0015)
    text[unreadable] = UNREADABLE[style]
    flag[as_text | unreadable] = ""
    return text, flag


def _block(style: str, rows: int, first_patient: int, rng: np.random.Generator) -> pd.DataFrame:
    """About ``rows`` rows of whole patients, numbered from ``first_patient``."""
    tests = ANALYTES[style]
    layout = _rows(style, rows, rng)
    analyte, patient = layout["analyte"], layout["patient"]
    patients = len(layout["patients"])
    male = rng.random(patients) < 0.5
    age_days = rng.integers(18 * 366, 95 * 365, size=patients)
    birth = YEAR.astype("datetime64[D]") - age_days.astype("timedelta64[D]")
    text, flag = _results(style, analyte, male[patient], rng)
    stamp = pd.Series(YEAR + layout["minutes"].astype("timedelta64[m]"))
    born = pd.Series(birth)
    nordic = style == "nordic"
    stamps = stamp.dt.strftime("%d.%m.%Y %H:%M" if nordic else "%Y-%m-%d %H:%M").to_numpy()
    births = born.dt.strftime("%d.%m.%Y" if nordic else "%Y-%m-%d").to_numpy()
    sexes = np.where(male, "M", "K" if nordic else "F")
    first_id = (1_000_000 if nordic else 5_000_000) + first_patient
    ids = np.array([str(first_id + p) for p in range(patients)])
    field = {
        name: np.array([t[i] for t in tests.values()], dtype=object)
        for i, name in enumerate(["code", "name", "unit"])
    }
    ranges = np.array([[t[7][0], t[8][0]] for t in tests.values()], dtype=object)
    header = HEADERS[style]
    return pd.DataFrame(
        {
            header[0]: ids[patient],
            header[1]: sexes[patient],
            header[2]: births[patient],
            header[3]: stamps,
            header[4]: field["code"][analyte],
            header[5]: field["name"][analyte],
            header[6]: text,
            header[7]: field["unit"][analyte],
            header[8]: ranges[analyte, male[patient].astype(int)],
            header[9]: flag,
        }
    )


def make_export(path: Path, rows: int, style: str, seed: int = 20261207) -> Path:
    """Write a seeded export of about ``rows`` rows (whole patients) to ``path``.

    Parameters
    ----------
    path
        The file to write.
    rows
        Rows wanted; the export ends with the patient that reaches it, so it may hold a
        few rows more.
    style
        ``"nordic"`` or ``"us"``.
    seed
        Seed of the random draws; the same seed gives the same file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    rng = np.random.default_rng(seed)
    encoding = "latin-1" if style == "nordic" else "utf-8"
    sep = ";" if style == "nordic" else ","
    written, patients = 0, 0
    with open(path, "w", encoding=encoding, newline="") as out:
        while written < rows:
            block = _block(style, min(BLOCK_ROWS, rows - written), patients, rng)
            block.to_csv(out, sep=sep, index=False, header=written == 0, lineterminator="\n")
            written += len(block)
            patients += block.iloc[:, 0].nunique()
    return path


if __name__ == "__main__":
    make_export(Path(sys.argv[3]), int(sys.argv[2]), sys.argv[1])
