"""Service adapters, by the value of ``supplier.backend.service``."""

from .etm import EtmAdapter
from .imsklad import ImskladAdapter
from .moysklad import MoySkladAdapter
from .shate import ShateAdapter
from .udoma import UdomaAdapter

ADAPTERS = {
    adapter.service: adapter
    for adapter in (EtmAdapter, ShateAdapter, ImskladAdapter, MoySkladAdapter, UdomaAdapter)
}


def get_adapter(backend):
    """The adapter for a (sudo-ed) connection record."""
    return ADAPTERS[backend.service](backend)
