"""What ``labinterp interpret`` prints when it is done: the rows per status and per flag."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_summary"]


def print_summary(console: Console, counts: dict[str, Counter[str]], rows: int) -> None:
    """Print the rows read and the rows per status and per flag.

    Parameters
    ----------
    console
        Where to print (the command's standard error).
    counts
        Rows per value of ``status`` and of ``flag``.
    rows
        Rows read (derived rows not counted).
    """
    from rich.table import Table

    from labinterp.schema import FLAGS

    console.print(f"[bold]{rows}[/bold] rows read and interpreted")
    table = Table(title="By status", show_edge=False)
    table.add_column("status")
    table.add_column("rows", justify="right")
    for status, count in sorted(counts["status"].items()):
        table.add_row(str(status), str(count))
    console.print(table)
    if counts["flag"]:
        flags = Table(title="By flag", show_edge=False)
        flags.add_column("flag")
        flags.add_column("rows", justify="right")
        for flag in FLAGS:
            if counts["flag"][flag]:
                flags.add_row(flag, str(counts["flag"][flag]))
        console.print(flags)
