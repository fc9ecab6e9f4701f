"""A matplotlib figure that shows itself as an image in Jupyter, whatever the backend."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["TrendFigure"]


class TrendFigure(Figure):
    """A :class:`matplotlib.figure.Figure` with a PNG representation for IPython.

    Jupyter shows a plain figure as an image only when the inline backend is active
    (``%matplotlib inline`` and pyplot imported); with any other backend it shows
    ``<Figure size ...>``. This figure gives IPython its PNG itself, so it shows as an
    image as the last expression of a cell in every case.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
