"""Local HTTP emulators of the supplier services (see DESIGN.md §5).

Standard library only, no odoo imports, relative imports only: this package is imported both as
``odoo.addons.supplier_connector.emulators`` (Odoo tests run an emulator in a thread) and as the
top-level ``emulators`` (pytest, bench scripts, ``python -m emulators``).
"""

from .base import (
    Emulator,
    Fault,
    RecordedRequest,
    Response,
    json_response,
    text_response,
)
from .etm import EtmEmulator, EtmProduct, EtmStore

__all__ = [
    "Emulator",
    "EtmEmulator",
    "EtmProduct",
    "EtmStore",
    "Fault",
    "RecordedRequest",
    "Response",
    "json_response",
    "text_response",
]
