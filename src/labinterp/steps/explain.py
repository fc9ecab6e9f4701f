"""Explain: the explanation of each result, its caveats and its problem, from the texts.

Text lives in ``data/text/<lang>.toml`` (one entry per key and audience, each citing
its sources). The explanation is the analyte's ``about`` text, then the flag's, then
the category's; the caveats are the context rules' (:mod:`labinterp.steps.context`)
followed by the interpretation notes. Each distinct combination is composed once.
The steps record problems as English sentences; each distinct one is put in the
output's language here, from its ``problem.<id>`` entry. Nothing here holds a
threshold or a sentence of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from labinterp.catalogue import (
    PLACEHOLDER,
    PROBLEM_PREFIX,
    RangeCatalogue,
    Text,
    text_catalogue,
)
from labinterp.models import Profile
from labinterp.perf import factorize_rows, objects
from labinterp.steps.context import fill_placeholders, rule_caveats
from labinterp.steps.lab_flag import lab_flag_codes
from labinterp.steps.state import NOTE_BIT, IntArray, ObjArray
from labinterp.steps.verdict import compose, decide, lab_disagreement

__all__ = [
    "CAVEAT_SEPARATOR",
    "ProblemSentences",
    "Rendered",
    "caveat_parts",
    "compose_explanation",
    "equation_name",
    "explanation_table",
    "finalise_text",
    "lab_disagreements",
    "problem_sentences",
    "problem_table",
    "problem_text",
    "render",
]

#: Separates several caveats within one ``caveats`` cell.
CAVEAT_SEPARATOR = " | "


def equation_name(key: str, text: Text) -> str:
    """Return an equation's display name in the text's language (``equation.<key>``)."""
    return text.name(f"equation.{key}", key)


def explanation_table(
    analyte: ObjArray | pd.Categorical[Any],
    flag: ObjArray | pd.Categorical[Any],
    scheme: ObjArray | pd.Categorical[Any],
    category: ObjArray | pd.Categorical[Any],
    text: Text,
) -> tuple[npt.NDArray[np.int64], ObjArray, ObjArray, ObjArray]:
    """Decide and write the verdicts once per distinct combination; return row codes and tables.

    Any of the columns may be given as categoricals, which are grouped by their codes.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Per row, the number of its combination; per combination, the text, the
        ``"; "``-joined source keys (``None`` where nothing applies) and the relation of
        flag and category (:data:`labinterp.steps.verdict.RELATIONS`).
    """
    codes, first = factorize_rows(analyte, flag, scheme, category)
    uniques = [
        tuple("" if pd.isna(v) else v for v in (analyte[i], flag[i], scheme[i], category[i]))
        for i in first
    ]
    texts = np.empty(len(uniques), dtype=object)
    cited = np.empty(len(uniques), dtype=object)
    relations = np.empty(len(uniques), dtype=object)
    for i, (a, f, s, c) in enumerate(uniques):
        verdict = decide(a, f, s, c)
        texts[i], cited[i] = compose(verdict, f, text)
        relations[i] = verdict.relation
    return codes, texts, cited, relations


def compose_explanation(
    analyte: str, flag: str, scheme: str, category: str, text: Text
) -> tuple[str | None, str | None]:
    """Compose one explanation and its source keys (``""`` for an absent part).

    The texts are the verdict's (:func:`labinterp.steps.verdict.decide`): the analyte's
    ``about`` text, then the flag's or the category's text, or both when they agree on
    a critical flag, with one sentence naming both when they differ.

    Returns
    -------
    (str or None, str or None)
        The text and the ``"; "``-joined source keys, ``None`` when nothing applies.
    """
    return compose(decide(analyte, flag, scheme, category), flag, text)


@dataclass(frozen=True)
class Rendered:
    """Explanations and rule caveats per row, before the interpretation notes are added."""

    text: Text
    explained: IntArray  # per row, its explanation's number
    explanation: ObjArray  # per number, the text
    cited: ObjArray  # per number, the "; "-joined source keys
    rule_texts: ObjArray  # per rule-caveat combination, tuples of caveat texts,
    rule_sources: ObjArray  # their sources
    rule_ids: ObjArray  # and the rule ids
    rule_codes: IntArray  # per row, its rule-caveat combination
    relation: ObjArray  # per explanation number, the relation of flag and category


def render(
    analyte: pd.Categorical[Any] | ObjArray,
    flag: pd.Categorical[Any],
    scheme: pd.Categorical[Any] | ObjArray,
    category: pd.Categorical[Any] | ObjArray,
    *,
    rows: Mapping[str, Any],
    profile: Profile,
    cat: RangeCatalogue,
    text: Text,
) -> Rendered:
    """Compose explanations and evaluate the context rules, once per distinct combination.

    ``rows`` holds the row-aligned arrays the rules need besides the analyte and flag:
    ``value_canonical``, ``age_years``, ``collected_at``, ``sample_set``,
    ``reference_source``, ``derived``, ``compared`` (the value was read, so only such a
    row is said to have been compared with its range) and ``equation``.
    """
    explained, explanation, cited, relation = explanation_table(
        analyte, flag, scheme, category, text
    )
    # Placeholder values as categoricals: factorized by their codes, not their text.
    equation_codes, equations_used = pd.factorize(rows["equation"], use_na_sentinel=True)
    equation = pd.Categorical.from_codes(
        equation_codes,
        categories=pd.Index([equation_name(e, text) for e in equations_used], dtype=object),
    )
    source = rows["reference_source"]
    titled = pd.Categorical.from_codes(
        np.where(pd.isna(source), -1, 0),
        categories=pd.Index([cat.title_in(text)], dtype=object),
    )
    rule_texts, rule_sources, rule_ids, rule_codes = rule_caveats(
        {
            "analyte": analyte,
            "flag": flag,
            "value_canonical": rows["value_canonical"],
            "age_years": rows["age_years"],
            "collected_at": rows["collected_at"],
            "sample_set": rows["sample_set"],
            "reference_source": source,
            "derived": rows["derived"],
            "compared": rows["compared"],
            "specimen": rows["specimen"],
            "comparator": rows["comparator"],
        },
        profile,
        text,
        {"equation": equation, "catalogue": titled},
    )
    return Rendered(
        text,
        explained,
        explanation,
        cited,
        rule_texts,
        rule_sources,
        rule_ids,
        rule_codes,
        relation,
    )


def finalise_text(out: pd.DataFrame, rendered: Rendered, catalogue: str) -> pd.DataFrame:
    """Attach explanations, relations and caveats (the lab's flag, rules, notes); write problems.

    ``catalogue`` is the title of the range catalogue, named where a flag from it
    disagrees with the laboratory's own.
    """
    text, explained, cited_table = rendered.text, rendered.explained, rendered.cited
    notes = out["_notes"].fillna(0).to_numpy(dtype=np.int64)
    lab = lab_disagreements(out)
    # Join once per distinct (lab, rules, notes, explanation sources) combination.
    codes, first = factorize_rows(lab, rendered.rule_codes, notes, explained)
    caveats = np.empty(len(first), dtype=object)
    sources = np.empty(len(first), dtype=object)
    applied = np.empty(len(first), dtype=object)
    flags = out["flag"].to_numpy(dtype=object, na_value="")
    for u, i in enumerate(first):
        cited = cited_table[explained[i]]
        rules = rendered.rule_codes[i]
        parts, keys = caveat_parts(
            rendered.rule_texts[rules], rendered.rule_sources[rules], cited, int(notes[i]), text
        )
        if lab[i] >= 0:
            said = lab_disagreement(
                int(lab[i]) // 2,
                flags[i],
                from_lab=bool(lab[i] % 2),
                catalogue=catalogue,
                text=text,
            )
            if said is not None:
                parts.insert(0, said.text)
        caveats[u] = CAVEAT_SEPARATOR.join(parts) if parts else None
        sources[u] = "; ".join(keys) if keys else None
        applied[u] = "; ".join(rendered.rule_ids[rules]) if rendered.rule_ids[rules] else None
    # Text columns are categoricals: each distinct text is held (and written) once.
    out["explanation"] = _categorical(explained, rendered.explanation, out.index)
    out["relation"] = _categorical(explained, rendered.relation, out.index)
    out["explanation_sources"] = _categorical(codes, sources, out.index)
    out["caveats"] = _categorical(codes, caveats, out.index)
    out["caveat_rules"] = _categorical(codes, applied, out.index)
    problem_codes, problems = problem_table(out["problem"], text)
    out["problem"] = _categorical(problem_codes, problems, out.index)
    if "read_problem" in out.columns and out["read_problem"].notna().any():
        # The readers' problems (an unreadable date, ...), in the same language.
        read_codes, read_problems = problem_table(out["read_problem"], text)
        written = objects(len(read_problems) + 1)  # a last entry for rows without one
        written[:-1] = read_problems
        out["read_problem"] = written[read_codes]
    return out.drop(columns="_notes")


def lab_disagreements(out: pd.DataFrame) -> IntArray:
    """Per row whose flag disagrees with the lab's: the lab's code × 2 + (range from the lab).

    -1 where the flags agree or were not compared.
    """
    result = np.full(len(out), -1, dtype=np.int64)
    if "agrees_with_lab" not in out.columns or "lab_flag" not in out.columns:
        return result
    differs = np.asarray(out["agrees_with_lab"].eq(False).fillna(False), dtype=bool)
    if not differs.any():
        return result
    lab = lab_flag_codes(out["lab_flag"][differs])
    from_lab = np.asarray(out["reference_source"][differs] == "lab", dtype=bool)
    result[differs] = lab * 2 + from_lab
    return result


def _categorical(codes: npt.NDArray[np.int64], table: ObjArray, index: pd.Index) -> pd.Series:
    """Build a categorical column from row codes (-1: missing) into a small table of texts."""
    table_codes, categories = pd.factorize(table, use_na_sentinel=True)
    row_codes = np.append(np.asarray(table_codes, dtype=np.int64), -1)[codes]
    values = pd.Categorical.from_codes(row_codes, categories=pd.Index(categories, dtype=object))
    return pd.Series(values, index=index)


def caveat_parts(
    rule_texts: Sequence[str],
    rule_sources: Sequence[str],
    cited: str | None,
    notes: int,
    text: Text,
) -> tuple[list[str], list[str]]:
    """Return a row's caveats (rule caveats, then notes) and all its source keys."""
    parts = list(rule_texts)
    keys = [*(cited.split("; ") if isinstance(cited, str) else ()), *rule_sources]
    for note, bit in NOTE_BIT.items():
        entry = text.get(f"note.{note}") if notes & bit else None
        if entry is not None:
            parts.append(entry.text)
            keys.extend(entry.sources)
    return parts, list(dict.fromkeys(keys))


# -- problem sentences -------------------------------------------------------------------

#: A placeholder's value: the shortest text that lets the sentence match, never across the
#: end of a sentence (so that sentences joined by a space stay apart).
_PARAMETER = r"(?:(?!\. ).)+?"

#: Joins the sentences of one problem (a reader may record several in one cell).
_SENTENCES_JOINED = " "


@dataclass(frozen=True)
class ProblemSentences:
    """The English problem sentences (``problem.<id>``), to recognise a recorded one by.

    A sentence without placeholders is found as it is; one with ``{name}`` placeholders
    by a pattern compiled once, each placeholder taking the text it stands for in the
    recorded sentence.
    """

    exact: Mapping[str, str]  # English sentence -> problem id
    patterns: tuple[tuple[re.Pattern[str], str], ...]  # with their id, most literal text first

    def match(self, sentence: str) -> tuple[str, dict[str, str]] | None:
        """Return the problem id of one recorded English sentence and its parameters."""
        key = self.exact.get(sentence)
        if key is not None:
            return key, {}
        for pattern, key in self.patterns:
            found = pattern.fullmatch(sentence)
            if found is not None:
                return key, found.groupdict()
        return None

    def split(self, recorded: str) -> list[tuple[str, dict[str, str]]] | None:
        """Return the id and parameters of each sentence of a problem (``None``: one unknown).

        ``recorded`` is one sentence or several joined by a space; each is taken as the
        shortest text from where the previous one ended that is a problem sentence.
        """
        whole = self.match(recorded)
        if whole is not None:
            return [whole]
        parts: list[tuple[str, dict[str, str]]] = []
        start = 0
        while start < len(recorded):
            found = [
                (m.end(), key, m.groupdict())
                for pattern, key in self._joined
                if (m := pattern.match(recorded, start)) is not None
            ]
            if not found:
                return None
            end, key, values = min(found, key=lambda f: f[0])
            parts.append((key, values))
            start = end + len(_SENTENCES_JOINED)
        return parts

    @cached_property
    def _joined(self) -> tuple[tuple[re.Pattern[str], str], ...]:
        """Every sentence as a pattern that ends where the next sentence is joined on."""
        end = f"(?={re.escape(_SENTENCES_JOINED)}|\\Z)"
        return (
            *((re.compile(re.escape(s) + end), k) for s, k in self.exact.items()),
            *((re.compile(p.pattern + end, re.DOTALL), k) for p, k in self.patterns),
        )


def _sentence_pattern(template: str) -> re.Pattern[str]:
    """Compile a sentence with ``{name}`` placeholders into a pattern with named groups."""
    out: list[str] = []
    seen: set[str] = set()
    at = 0
    for found in PLACEHOLDER.finditer(template):
        name = found.group(1)
        out.append(re.escape(template[at : found.start()]))
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>{_PARAMETER})")
        seen.add(name)
        at = found.end()
    out.append(re.escape(template[at:]))
    return re.compile("".join(out), re.DOTALL)


@lru_cache(maxsize=1)
def problem_sentences() -> ProblemSentences:
    """Return the English problem sentences of the text catalogue, ready to match.

    Both audiences' English sentences are recognised; sentences with placeholders are
    tried in order of their literal text, longest first, so the most specific wins.
    """
    exact: dict[str, str] = {}
    templates: dict[str, str] = {}
    for full, entry in text_catalogue("en").items():
        if full.startswith(PROBLEM_PREFIX):
            key = full.removeprefix(PROBLEM_PREFIX).rpartition(".")[0]
            kind = templates if PLACEHOLDER.search(entry.text) else exact
            kind.setdefault(entry.text, key)
    order = sorted(templates, key=lambda t: -len(PLACEHOLDER.sub("", t)))
    return ProblemSentences(exact, tuple((_sentence_pattern(t), templates[t]) for t in order))


def problem_text(recorded: str, text: Text) -> str:
    """Return a recorded problem in the text's language and audience.

    Each English sentence of ``recorded`` is matched to its ``problem.<id>`` entry and
    written from that entry in the text's language (English where the language lacks
    it), its placeholders filled with the parameters as recorded. A problem with a
    sentence that has no entry stays as recorded, in English.

    Examples
    --------
    >>> from labinterp.catalogue import Text
    >>> problem_text("No value was given.", Text("sv", "patient"))
    'Inget värde angavs.'
    """
    parts = problem_sentences().split(recorded)
    if parts is None:
        return recorded
    written = []
    for key, values in parts:
        entry = text.get(f"{PROBLEM_PREFIX}{key}")
        if entry is None:
            return recorded
        written.append(fill_placeholders(entry.text, values))
    return _SENTENCES_JOINED.join(written)


def problem_table(values: Any, text: Text) -> tuple[IntArray, ObjArray]:
    """Put a column of recorded problems in the text's language, once per distinct problem.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Per row, the number of its problem (-1: none); per number, the problem written
        (``None`` for an empty text; a value that is not text is kept as it is).
    """
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    table = objects(len(distinct))
    for i, recorded in enumerate(distinct):
        if not isinstance(recorded, str):
            table[i] = recorded  # not a sentence: kept as it is
        elif recorded:
            table[i] = problem_text(recorded, text)
    return np.asarray(codes, dtype=np.int64), table
