"""Generate the documentation pages that are tables of the packaged data.

``python scripts/generate_docs.py`` rewrites every generated page under ``docs/``;
``python scripts/generate_docs.py --check`` rewrites nothing and exits with status 1
when a page differs from what the data generates. The pages are built only from
public APIs of labinterp.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from labinterp import catalogue, schema
from labinterp.models import Rule

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
COMMAND = "python scripts/generate_docs.py"


def sources_page() -> str:
    """Render ``sources.toml`` as the Markdown page ``docs/sources.md``.

    Returns
    -------
    str
        One entry per source key, sorted by key.
    """
    lines = [
        "# Sources",
        "",
        "Every number, range and explanatory claim in labinterp cites one of these keys",
        "(in `reference_ranges/*/ranges.csv`, `data/analytes.toml`, `data/text/*.toml` and code",
        "docstrings). This page is generated from `src/labinterp/data/sources.toml` by",
        f"`{COMMAND}`.",
        "",
    ]
    items = sorted(catalogue.sources().items(), key=lambda item: item[0].casefold())
    for key, source in items:
        lines.append(f"- **{key}** ({source.kind}): {source.citation()}")
        if source.url and source.doi:
            lines.append(f"  {source.url}")
        if source.accessed:
            lines.append(f"  Accessed {source.accessed}.")
        if source.note:
            lines.append(f"  {source.note}")
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|")


def ranges_page() -> str:
    """Render every shipped reference range as the Markdown page ``docs/ranges.md``.

    Returns
    -------
    str
        One table per catalogue, one row per range, with its source and locator.
    """
    lines = [
        "# Reference ranges (tables)",
        "",
        "Every range of the shipped catalogues, generated from `reference_ranges/*/ranges.csv`",
        f"by `{COMMAND}`.",
        "Age bands are `[age_min, age_max)` in years; `[` and `]` mark inclusive limits;",
        "critical limits are strict.",
        "",
    ]
    for name in ("nordic", "us"):
        cat = catalogue.load_range_catalogue(name)
        lines += [f"## {cat.info.title} (`{name}`, version {cat.info.version})", ""]
        lines.append("| analyte | sex | age | range | unit | critical | source | locator |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for row in cat.ranges:
            age = f"{_cell(row.age_min) or '0'}–{_cell(row.age_max) or '∞'}"
            low = f"{'[' if row.low_inclusive else '('}{_cell(row.low) or '−∞'}"
            high = f"{_cell(row.high) or '∞'}{']' if row.high_inclusive else ')'}"
            critical = ", ".join(
                text
                for text in (
                    f"< {_cell(row.critical_low)}" if row.critical_low is not None else "",
                    f"> {_cell(row.critical_high)}" if row.critical_high is not None else "",
                )
                if text
            )
            lines.append(
                f"| {row.analyte} | {row.sex} | {age} | {low}, {high} | {row.unit} | "
                f"{critical} | {row.source} | {_cell(row.locator)} |"
            )
        lines.append("")
    return "\n".join(lines)


def schemes_page() -> str:
    """Render every classification scheme as the Markdown page ``docs/schemes.md``.

    Returns
    -------
    str
        One table per scheme: category, bounds, unit, source.
    """
    lines = [
        "# Classification schemes (tables)",
        "",
        "Generated from `src/labinterp/data/schemes.toml` by",
        f"`{COMMAND}`.",
        "",
    ]
    for scheme in catalogue.schemes().values():
        lines += [f"## `{scheme.name}` ({scheme.analyte})", ""]
        if scheme.sex is not None:
            lines.append(f"For results of {scheme.sex} patients only.")
        if scheme.specimens:
            lines.append(f"For results whose code or name says {_said(scheme.specimens)}.")
        if scheme.age_min is not None:
            lines.append(f"From {scheme.age_min:g} years.")
        lines.append(f"Source: {scheme.source}, {scheme.locator}.")
        if scheme.note:
            lines.append(f"Note: {scheme.note}")
        lines += ["", "| category | values |", "|---|---|"]
        if scheme.from_flags:
            for flag, label in scheme.from_flags.items():
                lines.append(f"| {label} | flag {flag} |")
        if scheme.given_by:
            for category in scheme.categories:
                lines.append(f"| {category.label} | given by `{scheme.given_by}` |")
            lines.append("")
            continue
        previous: tuple[float, bool] | None = None
        for category in scheme.categories:
            lower = f"{'>' if previous[1] else '≥'} {previous[0]:g}" if previous is not None else ""
            upper = (
                f"{'≤' if category.upper_inclusive else '<'} {category.upper:g}"
                if category.upper is not None
                else ""
            )
            bounds = " and ".join(b for b in (lower, upper) if b)
            lines.append(f"| {category.label} | {bounds} {scheme.unit} |")
            if category.upper is not None:
                previous = (category.upper, category.upper_inclusive)
        lines.append("")
    return "\n".join(lines)


def analytes_page() -> str:
    """Render the analyte catalogue as the Markdown page ``docs/analytes.md``.

    Returns
    -------
    str
        One table per panel group (as laboratories group results): the analyte, its
        specimen, catalogue unit, reporting unit per profile, codes and schemes.
    """
    from typing import get_args

    from labinterp.vocab import PanelGroup

    profiles = catalogue.profiles()
    schemes: dict[str, list[str]] = {}
    for scheme in catalogue.schemes().values():
        schemes.setdefault(scheme.analyte, []).append(f"`{scheme.name}`")
    lines = [
        "# Analytes (tables)",
        "",
        "Generated from `src/labinterp/data/analytes.toml` and the profiles by",
        f"`{COMMAND}`. Names as labs write them, limits and texts: see the file, the",
        "[reference range tables](ranges.md) and the [scheme tables](schemes.md).",
        "",
    ]
    spec = catalogue.analytes()
    for group in get_args(PanelGroup):
        keys = [k for k, a in spec.items() if a.group == group]
        if not keys:
            continue
        heading = catalogue.Text("en", "patient").name(f"name.group.{group}", group)
        units = " | ".join(profiles)
        lines += [
            f"## {heading}",
            "",
            f"| analyte | name | specimen | unit | {units} | codes | schemes |",
        ]
        lines.append("|---" * (6 + len(profiles)) + "|")
        for key in keys:
            a = spec[key]
            shown = " | ".join(_cell(p.units.get(key, "")) for p in profiles.values())
            codes = ", ".join((*a.loinc, *a.npu, *a.nlk)) or "—"
            used = ", ".join(schemes.get(key, [])) or "—"
            lines.append(
                f"| `{key}` | {_cell(a.display.get('en', key))} | {a.specimen} | "
                f"{_cell(a.unit or '—')} | {shown} | {codes} | {used} |"
            )
        lines.append("")
    return "\n".join(lines)


#: How ``direction`` and ``compared`` read in the rules page.
_DIRECTION = {
    "low": "flag is not H/HH (the caveat speaks of a lower value)",
    "high": "flag is not L/LL (the caveat speaks of a higher value)",
}
_COMPARED = {
    True: "the value was read and compared with its range",
    False: "the value could not be compared with a range",
}


def _own_conditions(rule: Rule) -> list[str]:
    """Return the conditions on the result itself: direction, derived, compared."""
    conditions = []
    if rule.direction is not None:
        conditions.append(_DIRECTION[rule.direction])
    if rule.derived is not None:
        conditions.append("the result is derived" if rule.derived else "the result is reported")
    if rule.compared is not None:
        conditions.append(_COMPARED[rule.compared])
    return conditions


def _rule_conditions(rule: Rule) -> list[str]:
    """Return a rule's conditions as phrases, in the order ``rules.toml`` documents them."""
    conditions = []
    if rule.analyte:
        conditions.append(f"analyte is `{rule.analyte}`")
    if rule.flags:
        conditions.append(f"flag is {'/'.join(rule.flags)}")
    conditions += _own_conditions(rule)
    if rule.age_outside:
        low, high = rule.age_outside
        conditions.append(f"age below {low:g} or above {high:g} years")
    if rule.months:
        conditions.append(f"collected in month {', '.join(str(m) for m in rule.months)}")
    if rule.profiles:
        conditions.append(f"profile {', '.join(rule.profiles)}")
    if rule.reference_source:
        conditions.append(f"reference source is {rule.reference_source}")
    if rule.specimens:
        conditions.append(f"its code or name says {_said(rule.specimens)}")
    if rule.with_analyte:
        conditions.append(f"the same sample set has {_other_result(rule)}")
    return conditions


def _other_result(rule: Rule) -> str:
    """Return the other result a rule's ``with`` asks for, in words."""
    other = f"`{rule.with_analyte}`"
    if rule.with_flags:
        other += f" flagged {'/'.join(rule.with_flags)}"
    if rule.with_below is not None:
        other += f" below {rule.with_below:g}"
    if rule.with_above is not None:
        other += f" above {rule.with_above:g}"
    if rule.with_unit is not None:
        other += f" {rule.with_unit}"
    return other


def _said(specimens: tuple[str, ...]) -> str:
    """Return what a code or name says, in words (``""``: nothing)."""
    return " or ".join(s.replace("_", "-") if s else "nothing" for s in specimens)


def rules_page() -> str:
    """Render ``rules.toml`` (with the English clinician caveats) as ``docs/rules.md``.

    Returns
    -------
    str
        One section per rule: its conditions, its sources and the caveat text.
    """
    text = catalogue.Text("en", "clinician")
    lines = [
        "# Context rules",
        "",
        "Caveats attached to results, evaluated per patient and sample set (same patient",
        "and collection time). Generated from `src/labinterp/data/rules.toml` and",
        "`src/labinterp/data/text/en.toml` by",
        f"`{COMMAND}`.",
        "",
    ]
    for rule in catalogue.rules():
        conditions = _rule_conditions(rule)
        entry = text.get(f"caveat.{rule.id}")
        lines.append(f"## `{rule.id}`")
        lines.append("")
        lines.append(f"- When: {'; '.join(conditions) or 'always'}.")
        lines.append(f"- Condition sources: {', '.join(rule.sources) or 'none (provenance)'}.")
        if rule.note:
            lines.append(f"- Note: {rule.note}")
        if entry is not None:
            lines.append(f"- Caveat (clinician, en): {entry.text}")
            lines.append(f"- Caveat sources: {', '.join(entry.sources) or 'none'}.")
        lines.append("")
    return "\n".join(lines)


#: Marks the generated part of a page that also has hand-written text.
BEGIN = f"<!-- Generated by `{COMMAND}` from labinterp.schema; edit the schema, not this. -->"
END = "<!-- End of the generated part. -->"

#: How the fixed categories of a categorical are shown.
_VOCABULARY_TEXT = {
    "flag": "ordered: LL < L < N < H < HH",
    "comparator": "<, <=, >, >=",
    "sex": "female, male",
    "status": "the statuses below",
    "analyte": "the catalogue's analyte keys",
    "scheme": "the schemes' names",
    "category": "the schemes' categories",
    "history_note": ", ".join(schema.HISTORY_NOTES),
    "source_status": ", ".join(schema.SOURCE_STATUSES),
    "relation": ", ".join(schema.RELATIONS),
}


def _escaped(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _dtype_cell(column: schema.Column) -> str:
    if column.vocabulary is None:
        return column.dtype_name
    return f"category ({_escaped(_VOCABULARY_TEXT[column.vocabulary])})"


def _column_rows(columns: Sequence[schema.Column]) -> list[str]:
    lines = ["| column | dtype | filled by | meaning | present |", "|---|---|---|---|---|"]
    for column in columns:
        present = "always" if column.always else _escaped(column.when)
        lines.append(
            f"| `{column.name}` | {_dtype_cell(column)} | {', '.join(column.steps)} | "
            f"{_escaped(column.meaning)} | {present} |"
        )
    return lines


def results_frame_tables() -> str:
    """Render the declared columns of both frames as Markdown tables.

    Returns
    -------
    str
        The generated part of ``docs/results-frame.md``, between its markers.
    """
    read = {column.name for column in schema.columns("results")}
    interpreted = schema.columns("interpreted")
    # The input's other columns follow derived_from (see schema.interpreted_order).
    cut = [c.name for c in interpreted].index("derived_from") + 1
    head = interpreted[:cut]
    added = [c for c in interpreted[cut:] if c.name not in read]
    other = "| *the input's other columns* | their own | input | passed through | given |"
    lines = [
        BEGIN,
        "",
        "## Results frame",
        "",
        "What the readers produce and `interpret` accepts (`labinterp.schema.results()`).",
        "",
        *_column_rows(schema.columns("results")),
        "",
        "## Interpreted frame",
        "",
        "What `interpret` returns (`labinterp.schema.interpreted()`), in this order: the",
        "first columns, then the other input columns in the input's order, then the rest.",
        "",
        *_column_rows(head),
        other,
        *_column_rows(added)[2:],
        "",
        END,
    ]
    return "\n".join(lines)


def _replace_generated(current: str, page: str, generated: str) -> str:
    """Replace the generated part of a page (between its markers); keep the text around it.

    Raises
    ------
    SystemExit
        When the page has no markers.
    """
    begin, end = current.find("<!-- Generated by"), current.find(END)
    if begin < 0 or end < 0:
        raise SystemExit(f"docs/{page} has no generated part between markers.")
    return current[:begin] + generated + current[end + len(END) :]


#: Marks the generated part of ``docs/formats/csv.md``.
COLUMNS_BEGIN = (
    f"<!-- Generated by `{COMMAND}` from src/labinterp/data/columns.toml; "
    "edit that file, not this. -->"
)
#: The header lists of a field, by where they are written, as the table's columns show them.
_HEADER_LISTS = (
    ("en", "English"),
    ("nb", "Norwegian"),
    ("sv", "Swedish"),
    ("da", "Danish"),
    ("exports", "system exports"),
)


def header_synonyms_table() -> str:
    """Render the header synonyms of ``columns.toml`` as a Markdown table.

    Returns
    -------
    str
        The generated part of ``docs/formats/csv.md``, between its markers.
    """
    lines = [
        COLUMNS_BEGIN,
        "",
        "| field | " + " | ".join(title for _, title in _HEADER_LISTS) + " |",
        "|---|" + "---|" * len(_HEADER_LISTS),
    ]
    for spec in catalogue.column_fields().values():
        cells = [
            ", ".join(_escaped(header) for header in getattr(spec, key)) or "–"
            for key, _ in _HEADER_LISTS
        ]
        lines.append(f"| `{spec.field}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"{len(catalogue.header_synonyms())} headers after normalisation, each filling one "
        "field; a field's own name is always recognised.",
        "",
        END,
    ]
    return "\n".join(lines)


#: Marks the generated part of ``docs/verdict.md``.
VERDICT_BEGIN = (
    f"<!-- Generated by `{COMMAND}` from schemes.toml and src/labinterp/data/text/; "
    "edit those files, not this. -->"
)
_LANGUAGES = (("en", "English"), ("nb", "Norwegian"), ("sv", "Swedish"))


def _texts(key: str) -> list[str]:
    """Return one text key in every language and audience (patient; clinician)."""
    cells = []
    for lang, _ in _LANGUAGES:
        texts = catalogue.text_catalogue(lang)
        found = [texts.get(f"{key}.{a}") or texts.get(key) for a in catalogue.AUDIENCES]
        cells.append("<br>".join(dict.fromkeys(_escaped(e.text) for e in found if e)))
    return cells


def verdict_tables() -> str:
    """Render the verdict's relations, sentences and names as Markdown tables.

    Returns
    -------
    str
        The generated part of ``docs/verdict.md``, between its markers.
    """
    titles = " | ".join(title for _, title in _LANGUAGES)
    lines = [VERDICT_BEGIN, "", "### Where each category lies", ""]
    lines += ["| scheme | category | direction |", "|---|---|---|"]
    for scheme in catalogue.schemes().values():
        labels = [*scheme.from_flags.values()] or [c.label for c in scheme.categories]
        labels += [scheme.high_from_reference] if scheme.high_from_reference else []
        for label in dict.fromkeys(labels):
            lines.append(f"| {scheme.name} | {label} | {scheme.direction(label)} |")
    lines += ["", "### The sentence when flag and category differ (patient; clinician)", ""]
    lines += [f"| flag | {titles} |", "|---|---|---|---|"]
    for flag in schema.FLAGS:
        lines.append(f"| {flag} | " + " | ".join(_texts(f"verdict.differ.{flag}")) + " |")
    lines += ["", "### The sentence when an off-range flag and its category agree", ""]
    lines += [f"| flag | {titles} |", "|---|---|---|---|"]
    for flag in ("L", "H"):
        lines.append(f"| {flag} | " + " | ".join(_texts(f"verdict.agree.{flag}")) + " |")
    lines += ["", "### The caveat when the laboratory's flag disagrees (patient; clinician)", ""]
    lines += [f"| the flag here came from | {titles} |", "|---|---|---|---|"]
    for where, title in (
        ("lab", "the laboratory's range"),
        ("lab_critical", "the laboratory's range and the catalogue's critical limits"),
        ("catalogue", "the catalogue"),
    ):
        cells = _texts(f"verdict.lab_disagrees.{where}")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    lines += ["", "### Names filled into the sentences", ""]
    lines += [f"| name | {titles} |", "|---|---|---|---|"]
    prefixes = ("name.scheme.", "name.category.", "name.flag.")
    names = sorted(k for k in catalogue.text_catalogue("en") if k.startswith(prefixes))
    lines += [f"| `{key}` | " + " | ".join(_texts(key)) + " |" for key in names]
    lines += ["", END]
    return "\n".join(lines)


def _whole(render: Callable[[], str]) -> Callable[[str], str]:
    return lambda current: render()


def _part(page: str, render: Callable[[], str]) -> Callable[[str], str]:
    """Render a page whose generated part sits between markers in text of its own."""
    return lambda current: _replace_generated(current, page, render())


#: Every generated page: its file under ``docs/`` and the function that renders it from
#: the page as it is (results-frame.md, formats/csv.md and verdict.md keep text of their own).
PAGES: dict[str, Callable[[str], str]] = {
    "sources.md": _whole(sources_page),
    "analytes.md": _whole(analytes_page),
    "ranges.md": _whole(ranges_page),
    "schemes.md": _whole(schemes_page),
    "rules.md": _whole(rules_page),
    "results-frame.md": _part("results-frame.md", results_frame_tables),
    "formats/csv.md": _part("formats/csv.md", header_synonyms_table),
    "verdict.md": _part("verdict.md", verdict_tables),
}


def render(name: str, docs: Path = DOCS) -> str:
    """Return what the page ``docs/<name>`` should hold.

    Parameters
    ----------
    name
        A key of :data:`PAGES`.
    docs
        The documentation directory.

    Returns
    -------
    str
    """
    path = docs / name
    return PAGES[name](path.read_text(encoding="utf-8") if path.exists() else "")


def stale_pages(docs: Path = DOCS) -> list[str]:
    """Return the names of the generated pages whose file differs from the data.

    Parameters
    ----------
    docs : Path
        The documentation directory.

    Returns
    -------
    list of str
        Page file names, in :data:`PAGES` order; empty when every page is current.
    """
    stale = []
    for name in PAGES:
        path = docs / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != render(name, docs):
            stale.append(name)
    return stale


def write_pages(docs: Path = DOCS) -> list[str]:
    """Rewrite every stale generated page.

    Parameters
    ----------
    docs : Path
        The documentation directory.

    Returns
    -------
    list of str
        The names of the pages that were rewritten.
    """
    stale = stale_pages(docs)
    for name in stale:
        (docs / name).write_text(render(name, docs), encoding="utf-8")
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line: rewrite the pages, or with ``--check`` only compare them.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when every page is (now) current; 1 with ``--check`` when a page is stale.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a page is stale"
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_pages()
        for name in stale:
            print(f"docs/{name} is stale; run `{COMMAND}`.", file=sys.stderr)
        return 1 if stale else 0
    for name in write_pages():
        print(f"rewrote docs/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
