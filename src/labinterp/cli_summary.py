"""What ``labinterp interpret`` prints when it is done: rows per status, flag and panel."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_summary"]


def print_summary(
    console: Console, counts: dict[str, Counter[str]], rows: int, *, lang: str = "en"
) -> None:
    """Print the rows read and the rows per status, per flag and per panel.

    Parameters
    ----------
    console
        Where to print (the command's standard error).
    counts
        Rows per value of ``status`` and of ``flag``, and per analyte and flag joined by
        a tab (``panel``).
    rows
        Rows read (derived rows not counted).
    lang
        The language of the titles, the headers and the panel names (``name.cli.*``,
        ``name.group.<group>``); statuses and flags are the output's own codes.
    """
    from rich.table import Table

    from labinterp.catalogue import Text
    from labinterp.schema import FLAGS

    text = Text(lang, "patient")

    def word(key: str, english: str) -> str:
        return text.name(f"name.cli.{key}", english)

    console.print(f"[bold]{rows}[/bold] {word('rows_read', 'rows read and interpreted')}")
    table = Table(title=word("by_status", "By status"), show_edge=False)
    table.add_column(word("status", "status"))  # the values are the output's status codes
    table.add_column(word("rows", "rows"), justify="right")
    for status, count in sorted(counts["status"].items()):
        table.add_row(str(status), str(count))
    console.print(table)
    if counts["flag"]:
        flags = Table(title=word("by_flag", "By flag"), show_edge=False)
        flags.add_column(word("flag", "flag"))
        flags.add_column(word("rows", "rows"), justify="right")
        for flag in FLAGS:
            if counts["flag"][flag]:
                flags.add_row(flag, str(counts["flag"][flag]))
        console.print(flags)
    if counts.get("panel"):
        console.print(_panel_table(counts["panel"], lang))


def _panel_table(panel: Counter[str], lang: str) -> Any:
    """Return the results per panel as laboratories group them, with those out of range."""
    from typing import get_args

    from rich.table import Table

    from labinterp.catalogue import Text, analytes
    from labinterp.vocab import PanelGroup

    spec = analytes()
    results: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for key, count in panel.items():
        analyte, _, flag = key.partition("\t")
        group = spec[analyte].group if analyte in spec else None
        if group is None:
            continue
        results[group] += count
        outside[group] += count if flag in ("L", "H", "LL", "HH") else 0
    text = Text(lang, "patient")
    table = Table(title=text.name("name.report.by_panel", "By panel"), show_edge=False)
    table.add_column(text.name("name.report.panel", "panel"))
    table.add_column(text.name("name.report.panel_results", "results"), justify="right")
    table.add_column(text.name("name.report.outside", "outside the range"), justify="right")
    for group in get_args(PanelGroup):  # in the order laboratories print them
        if results[group]:
            name = text.name(f"name.group.{group}", group)
            table.add_row(name, str(results[group]), str(outside[group]))
    return table
