"""HTML to PDF with WeasyPrint (imported only when a PDF is made: it is heavy)."""

from __future__ import annotations

import logging


def render_pdf(page: str, base_url: str | None = None) -> bytes:
    """The PDF of an HTML page. Renders the same bytes for the same page and fonts."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    # WeasyPrint logs each character its fonts lack, which would put message text in
    # the logs; the PDF shows a box for it and the HTML keeps the text.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)

    pdf: bytes = HTML(string=page, base_url=base_url).write_pdf()
    return pdf
