"""What every PDF the service prints shares: the table grid, the page footer, French dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import TableStyle

#: Tables of minutes: a black grid, a grey header row, cells aligned to the top.
GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def french_date(day: dt.date) -> str:
    """JJ/MM/AAAA."""
    return day.strftime("%d/%m/%Y")


def page_footer(canvas: Any, document: Any) -> None:
    """« Page N » in the bottom right corner of every page."""
    canvas.saveState()
    canvas.setFont("Helvetica", 8)
    canvas.drawRightString(A4[0] - 16 * mm, 10 * mm, f"Page {document.page}")
    canvas.restoreState()
