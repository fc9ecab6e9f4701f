"""Sample sets: the results of one patient collected at one time.

Context rules and schemes look across a sample set (ferritin with a raised CRP in the
same sample, HbA1c with a low haemoglobin); derived rows belong to their source row's set.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.perf import Coded, factorize_rows, factorized

__all__ = ["in_sets_of", "sample_sets"]

IntArray = npt.NDArray[np.int64]


def sample_sets(patient: Any, collected: Any) -> IntArray:
    """Return sample-set numbers (same patient and collection time); -1 where one is missing.

    ``patient`` may be given already factorized (:class:`Coded`). ``collected`` are the
    collection instants (:func:`labinterp.times.instants`), so one sample written with two
    UTC offsets (``08:10+01:00``, ``07:10Z``) is one set.
    """
    patients = patient if isinstance(patient, Coded) else factorized(pd.Series(patient))
    times = pd.Series(collected)
    codes, _ = factorize_rows(patients, times)
    return np.where((patients.codes < 0) | times.isna().to_numpy(), -1, codes)


def in_sets_of(sets: IntArray, members: Any) -> npt.NDArray[np.bool_]:
    """Mark the rows whose sample set holds one of ``members`` (a row mask or positions).

    ``sets`` numbers the sample sets (:func:`sample_sets`); rows without one (-1) are
    never marked.
    """
    held = sets[members]
    marked = np.zeros(int(sets.max(initial=-1)) + 2, dtype=bool)  # last entry: for -1
    marked[held[held >= 0]] = True
    return np.asarray(marked[sets], dtype=bool)
