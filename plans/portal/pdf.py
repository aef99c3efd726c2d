"""The printed person's report, drawn from a saved report's content alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fpdf import FPDF

from plans.portal.charts import SERIES_FILLS

ADVICE = "Advice only: always assess and treat."


def _latin1(text: object) -> str:
    # fpdf2's core fonts are Latin-1; an unusual character must not stop a print.
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _month(text: str) -> str:
    return dt.date.fromisoformat(f"{text}-01").strftime("%b %y")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)


def _table(
    pdf: FPDF, header: list[str], rows: list[list[Any]], first: float = 50
) -> None:
    width = pdf.epw
    rest = (width - first) / max(len(header) - 1, 1)
    widths = [first] + [rest] * (len(header) - 1)
    pdf.set_font("Helvetica", "B", 7)
    for w, h in zip(widths, header, strict=True):
        pdf.cell(w, 5, _latin1(h), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for row in rows:
        if pdf.will_page_break(5):
            pdf.add_page()
        for w, value in zip(widths, row, strict=True):
            pdf.cell(w, 5, _latin1("" if value is None else value)[:60], border=1)
        pdf.ln()


def _bars(pdf: FPDF, content: dict[str, Any]) -> None:
    months = content["months"]
    services = content["services"]
    totals = [sum(s["counts"][i] for s in services) for i in range(len(months))]
    top = max(totals, default=0) or 1
    x0, y0, w, h = pdf.l_margin + 10, pdf.get_y() + 2, pdf.epw - 12, 45
    band = w / max(len(months), 1)
    pdf.set_draw_color(0)
    pdf.line(x0, y0 + h, x0 + w, y0 + h)
    pdf.set_font("Helvetica", "", 6)
    pdf.text(pdf.l_margin, y0 + 3, str(top))
    pdf.text(pdf.l_margin, y0 + h, "0")
    for i in range(len(months)):
        base = y0 + h
        for s, service in enumerate(services):
            value = service["counts"][i]
            if not value:
                continue
            height = value / top * h
            base -= height
            pdf.set_fill_color(*_rgb(SERIES_FILLS[s % len(SERIES_FILLS)]))
            pdf.rect(x0 + band * i + band * 0.15, base, band * 0.7, height, style="F")
        if i % max(1, len(months) // 6) == 0:
            pdf.text(x0 + band * i, y0 + h + 4, _month(months[i]))
    began = content.get("mentoring_began")
    if began and began[:7] in months:
        x = x0 + band * months.index(began[:7])
        pdf.set_draw_color(60)
        pdf.set_dash_pattern(dash=1.5, gap=1)
        pdf.line(x, y0, x, y0 + h)
        pdf.set_dash_pattern()
        pdf.text(x + 1, y0 + 3, "Mentoring began")
    pdf.set_y(y0 + h + 6)
    x = pdf.l_margin
    for s, service in enumerate(services):
        pdf.set_fill_color(*_rgb(SERIES_FILLS[s % len(SERIES_FILLS)]))
        pdf.rect(x, pdf.get_y(), 3, 3, style="F")
        pdf.text(x + 4, pdf.get_y() + 2.6, _latin1(service["name"]))
        x += 60
    pdf.ln(6)


def render_report_pdf(
    content: dict[str, Any], *, built_on: dt.date, report_id: int
) -> bytes:
    """Render a saved person's report as an A4 PDF."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_margins(12, 12, 12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    person = content["person"]
    pdf.cell(
        0,
        8,
        _latin1(f"Report for {person['name']} ({person['ref']})"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 9)
    months = content["months"]
    began = content.get("mentoring_began") or "not recorded"
    lines = [
        f"{content['team']}. Report {report_id}, saved {built_on.isoformat()}; "
        f"covers {_month(months[0])} to {_month(months[-1])}.",
        f"Mentoring began: {began}. The months before it are the baseline.",
        ADVICE,
        "Demand is shown beside what the person experienced: "
        "fewer calls can hide harm.",
    ]
    pdf.multi_cell(0, 5, _latin1("\n".join(lines)), new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, "Demand by service each month")
    _bars(pdf, content)

    _heading(pdf, "What the person experienced")
    _table(
        pdf,
        ["Kind", "Total", *[_month(m) for m in months[-6:]]],
        [[h["kind"], sum(h["counts"]), *h["counts"][-6:]] for h in content["harms"]],
    )

    _heading(pdf, "Demand by unit (monthly mean before and since mentoring began)")
    _table(
        pdf,
        [
            "Unit",
            "Total",
            "Baseline mean",
            "Since mean",
            *[_month(m) for m in months[-4:]],
        ],
        [
            [
                u["label"],
                sum(u["counts"]),
                u["baseline_mean"],
                u["since_mean"],
                *u["counts"][-4:],
            ]
            for u in content["units"]
        ],
    )

    _heading(pdf, "Cost of demand")
    yearly = content["yearly_costs"]
    _table(pdf, ["Year", "Cost"], [[y, f"£{float(c):,.0f}"] for y, c in yearly.items()])
    pdf.set_font("Helvetica", "I", 7)
    pdf.multi_cell(
        0,
        4,
        "Costs use the team's own dated unit costs where entered, "
        "otherwise the illustrative default table (docs/portal.md).",
        new_x="LMARGIN",
        new_y="NEXT",
    )

    _heading(pdf, "The plan's history and reviews")
    _table(
        pdf,
        ["Version", "Status", "Published", "Approved", "Review by", "Ended"],
        [
            [
                v["version"],
                v["status"],
                v["published"],
                v["approved_on"],
                v["review_by"],
                v["ended"],
            ]
            for v in content["plan_history"]
        ],
        first=20,
    )

    _heading(pdf, "How often the plan was opened, and by whom")
    _table(
        pdf,
        ["Opened by", "Times"],
        [[o["by"].replace("_", " "), o["times"]] for o in content["opened_by"]]
        or [["nobody", 0]],
    )

    _heading(pdf, "Concerns and their answers")
    if content["concerns"]:
        for concern in content["concerns"]:
            pdf.multi_cell(
                0,
                4.5,
                _latin1(
                    f"{concern['raised']} {concern['kind']} ({concern['status']}): "
                    f"{concern['answer'] or 'no answer yet'}"
                ),
                new_x="LMARGIN",
                new_y="NEXT",
            )
    else:
        pdf.cell(0, 5, "None raised.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
