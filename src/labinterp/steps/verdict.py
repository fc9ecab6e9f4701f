"""Verdict: one decision per result, from its flag and its category, that the text follows.

A result can be judged twice: its flag against the reference range used
(:mod:`labinterp.steps.flags`) and its category in a clinical scheme
(:mod:`labinterp.steps.schemes`, e.g. WHO's iron-deficiency threshold). The two are
computed from the same value at the same reporting precision, but their limits differ
(a laboratory's ferritin range may start at 6 µg/L, WHO's iron deficiency ends at
15 µg/L), so they can point different ways. This step is the one place that decides:

- the **relation** of flag and category: ``agree`` (they point the same way, compared
  by :attr:`labinterp.models.SchemeCategory.direction`; a category that restates the
  flag always agrees), ``differ`` (the range and the clinical scheme point different
  ways) or ``no_comparison`` (a flag or a category is missing);
- which **texts** explain it, after the analyte's ``about`` text: without a category
  of its own, the flag's text; with an agreeing one, the category's text, after the
  flag's text when the flag is critical and after one ``verdict.agree.<flag>`` sentence
  naming both when the flag is ``L`` or ``H``; when they differ, one
  ``verdict.differ.<flag>`` sentence that names both, then the text of the side that
  calls for attention (the category's, unless the category is the normal one and only
  the flag is not: then the generic ``_flag.<flag>`` text, since an analyte's own flag
  text may speak of categories). Two texts that make opposing claims are never joined;
- the **lab caveat**: when the laboratory's own flag disagrees with the flag given
  here (``agrees_with_lab`` is false), one caveat names both flags and the range each
  came from.

Everything is decided once per distinct combination; the frame path and the
single-result path call the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from labinterp.catalogue import Text, schemes
from labinterp.models import FLAG_DIRECTION, Relation, TextEntry
from labinterp.steps.context import fill_placeholders
from labinterp.steps.lab_flag import LAB_CODES

__all__ = [
    "CRITICAL",
    "Verdict",
    "compose",
    "decide",
    "lab_disagreement",
]

#: Flags beyond a critical limit: their text is kept beside an agreeing category.
CRITICAL: Final = frozenset({"LL", "HH"})


@dataclass(frozen=True)
class Verdict:
    """The verdict on one combination of analyte, flag, scheme and category."""

    relation: Relation
    keys: tuple[str, ...]  # text keys of the explanation, in order
    names: tuple[tuple[str, str], ...]  # placeholder -> the text key of the name it takes


@lru_cache(maxsize=512)
def decide(analyte: str, flag: str, scheme: str, category: str) -> Verdict:
    """Decide the relation of a flag and a category, and the texts that explain them.

    Parameters
    ----------
    analyte, flag, scheme, category
        ``""`` for an absent part (``flag`` is an HL7 table 0078 flag).

    Returns
    -------
    Verdict
        The relation and the text keys (the flag's key as ``<analyte>.flag.<flag>``;
        :func:`compose` falls back to the generic ``_flag.<flag>``).

    Examples
    --------
    >>> decide("ferritin", "N", "Ferritin_WHO2020", "iron_deficiency").relation
    'differ'
    >>> decide("ferritin", "N", "Ferritin_WHO2020", "iron_deficiency").keys
    ('ferritin.about', 'verdict.differ.N', 'category.Ferritin_WHO2020.iron_deficiency')
    """
    if not analyte:
        return Verdict("no_comparison", (), ())
    about = f"{analyte}.about"
    flag_key = (f"{analyte}.flag.{flag}",) if flag else ()
    known = schemes().get(scheme) if scheme else None
    if known is None or not category or known.from_flags:
        # No category of its own: a category that restates the flag adds no text.
        restated = known is not None and bool(category) and bool(flag)
        return Verdict("agree" if restated else "no_comparison", (about, *flag_key), ())
    category_key = f"category.{scheme}.{category}"
    if not flag:
        return Verdict("no_comparison", (about, category_key), ())
    names = (
        ("scheme", f"name.scheme.{scheme}"),
        ("category", f"name.category.{scheme}.{category}"),
    )
    if FLAG_DIRECTION[flag] == known.direction(category):
        if flag in CRITICAL:
            return Verdict("agree", (about, *flag_key, category_key), ())
        if flag == "N":
            return Verdict("agree", (about, category_key), ())
        # One sentence names both (below the range, and the category), then the category.
        return Verdict("agree", (about, f"verdict.agree.{flag}", category_key), names)
    # The side that calls for attention explains: the category, unless only the flag does;
    # then the generic flag text, as an analyte's own flag text may speak of categories.
    attention = f"_flag.{flag}" if known.direction(category) == "normal" else category_key
    return Verdict("differ", (about, f"verdict.differ.{flag}", attention), names)


def compose(verdict: Verdict, flag: str, text: Text) -> tuple[str | None, str | None]:
    """Write a verdict's explanation in the text's language; return it and its source keys.

    Returns
    -------
    (str or None, str or None)
        The text and the ``"; "``-joined source keys, ``None`` when nothing applies.
    """
    parts: list[TextEntry] = []
    fill = {name: text.name(key, key.rpartition(".")[2]) for name, key in verdict.names}
    for key in verdict.keys:
        entry = text.get(key)
        if entry is None and flag and key.endswith(f".flag.{flag}"):
            entry = text.get(f"_flag.{flag}")
        if entry is not None:
            parts.append(entry)
    if not parts:
        return None, None
    return " ".join(fill_placeholders(e.text, fill) for e in parts), "; ".join(
        dict.fromkeys(k for e in parts for k in e.sources)
    )


def lab_disagreement(
    lab: int, flag: str, *, from_lab: bool, catalogue: str, text: Text
) -> TextEntry | None:
    """Return the caveat for a flag that disagrees with the laboratory's own flag.

    Parameters
    ----------
    lab
        The laboratory's flag as a position in :data:`labinterp.steps.lab_flag.LAB_CODES`
        (any other number: nothing comparable was sent).
    flag
        The flag given here (``""``: none, so nothing disagrees).
    from_lab
        Whether the flag here was given against the laboratory's own range (a critical
        flag then against the catalogue's critical limits beside it), else against the
        catalogue's range; ``catalogue`` is the catalogue's title.

    Returns
    -------
    TextEntry or None
        The caveat naming both flags and the range each came from, in the text's
        language; ``None`` when there is nothing to say.
    """
    if not flag or not 0 <= lab < len(LAB_CODES):
        return None
    # A critical flag beside the lab's range came from the catalogue's critical limits.
    where = ("lab_critical" if flag in CRITICAL else "lab") if from_lab else "catalogue"
    entry = text.get(f"verdict.lab_disagrees.{where}")
    if entry is None:
        return None
    fill = {
        "lab_flag": text.name(f"name.flag.{LAB_CODES[lab]}", LAB_CODES[lab]),
        "flag": text.name(f"name.flag.{flag}", flag),
        "catalogue": catalogue,
    }
    return TextEntry(text=fill_placeholders(entry.text, fill), sources=entry.sources)
