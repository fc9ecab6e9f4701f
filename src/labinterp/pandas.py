"""The ``df.labinterp`` DataFrame accessor for notebooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from labinterp.io.writers.html import Report

__all__ = ["LabinterpAccessor"]


@pd.api.extensions.register_dataframe_accessor("labinterp")
class LabinterpAccessor:
    """Interpret a results frame in place of calling the functions.

    Examples
    --------
    >>> import labinterp, pandas as pd
    >>> df = pd.DataFrame({"analyte": ["magnesium"], "raw_value": ["0,82"], "raw_unit": ["mmol/L"],
    ...                    "age_years": [40]})
    >>> df.labinterp.interpret()["flag"].tolist()
    ['N']
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def interpret(self, **options: Any) -> pd.DataFrame:
        """Interpret the frame; see :func:`labinterp.interpret` for the options."""
        from labinterp.engine import interpret

        return interpret(self._frame, **options)

    def plot(
        self,
        *,
        patient_id: Any,
        analytes: Sequence[str] | None = None,
        lang: str | None = None,
    ) -> Figure:
        """Plot one patient's trends; see :func:`labinterp.plot.plot_results`.

        Analytes may be named by key or by name in any language. The figure shows as
        an image in Jupyter; when no analyte has two or more results it says so
        instead of drawing.
        """
        from labinterp.plot import plot_results

        return plot_results(
            self._frame, patient_id=patient_id, analytes=analytes, lang=lang, when_empty="explain"
        )

    def report(self, *, patient_id: Any, **options: Any) -> Report:
        """Build a patient's report, shown inline in Jupyter; see :func:`labinterp.report`."""
        from labinterp.io.writers.html import report

        return report(self._frame, patient_id=patient_id, **options)

    def history(self, **options: Any) -> pd.DataFrame:
        """Return serial changes of an interpreted frame; see :func:`labinterp.history`."""
        from labinterp.steps.history import history

        return history(self._frame, **options)

    def failures(self) -> pd.DataFrame:
        """Rows of an interpreted frame that could not be interpreted."""
        from labinterp.results import failures

        return failures(self._frame)
