"""Answers of pure lookups, kept with the catalogue object they were read from.

The single path (:mod:`labinterp.steps.one`) asks the same questions on every call:
which analyte a name stands for, which catalogue row covers a result of a sex and an
age. The answers depend only on the question and on the catalogue object asked, so
they are kept per catalogue object: another catalogue (another profile's, one loaded
from a directory, one loaded again) starts with nothing kept, and no answer outlives
the catalogue it was read from. A kept answer is immutable (a frozen dataclass or a
named tuple), so every caller may share it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["Kept"]

T = TypeVar("T")


class Kept:
    """Answers keyed by question, for each catalogue object (compared by identity).

    Parameters
    ----------
    limit
        The most answers kept per catalogue; past it the catalogue's answers are
        dropped and asked again (the questions of clinic software are few and repeat).
    catalogues
        The most catalogues whose answers are kept at once.

    Examples
    --------
    >>> kept = Kept()
    >>> first, second = {"a": 1}, {"a": 2}
    >>> [kept.answer(c, "a", lambda c=c: c["a"]) for c in (first, second, first)]
    [1, 2, 1]
    """

    def __init__(self, limit: int = 4096, catalogues: int = 8) -> None:
        self._limit = limit
        self._catalogues = catalogues
        # Keyed by id(); the catalogue itself is held beside its answers, so its id
        # cannot be reused while they are kept, and ``is`` confirms the match.
        self._by_catalogue: dict[int, tuple[object, dict[Hashable, Any]]] = {}

    def answer(self, catalogue: object, question: Hashable, ask: Callable[[], T]) -> T:
        """Return the kept answer to ``question`` about ``catalogue``, else ``ask()`` (kept).

        A question that cannot be hashed is asked every time.
        """
        held = self._by_catalogue.get(id(catalogue))
        if held is None or held[0] is not catalogue:
            if len(self._by_catalogue) >= self._catalogues:
                self._by_catalogue.clear()
            held = (catalogue, {})
            self._by_catalogue[id(catalogue)] = held
        answers = held[1]
        try:
            return answers[question]  # type: ignore[no-any-return]
        except KeyError:
            pass
        except TypeError:  # an unhashable question (a list given as a name)
            return ask()
        if len(answers) >= self._limit:
            answers.clear()
        answers[question] = found = ask()
        return found
