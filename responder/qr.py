"""QR codes for plan cards and authenticator enrolment, drawn with `qrcode`."""

from __future__ import annotations

import base64
import io
from typing import Any

from markupsafe import escape
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage
from qrcode.main import QRCode


def qr_code(text: str, *, box_size: int = 10, border: int = 4) -> QRCode[Any]:
    """Return the smallest level-M QR code for `text`, in its most compact modes."""
    qr = QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def png(qr: QRCode[Any]) -> bytes:
    """Render a QR code as PNG."""
    out = io.BytesIO()
    qr.make_image(image_factory=PilImage).save(out, format="PNG")
    return out.getvalue()


def svg(qr: QRCode[Any], *, title: str | None = None) -> bytes:
    """Render a QR code as SVG, with a title for screen readers when given."""
    text = qr.make_image(image_factory=SvgPathImage).to_string(encoding="unicode")
    if title:
        opening = text.index(">", text.index("<svg")) + 1
        text = text[:opening] + f"<title>{escape(title)}</title>" + text[opening:]
    return text.encode("utf-8")


def svg_data_uri(text: str, *, box_size: int = 4) -> str:
    """Return `text` as a QR code in an SVG data URI, for an <img> under the CSP."""
    encoded = base64.b64encode(svg(qr_code(text, box_size=box_size))).decode("ascii")
    return "data:image/svg+xml;base64," + encoded
