"""pytest plugin for layer 1 (loaded by pytest.ini with ``-p pytest_layer1``).

The repository root is the Odoo addon: its ``__init__.py`` imports ``odoo``. pytest >= 8 turns
every directory that has an ``__init__.py`` into a ``Package`` collector and imports that
``__init__.py`` (as ``<clone-name>.api`` and ``<clone-name>``), which would import Odoo. Inside the
repository we collect plain directories instead, so test modules in ``api/tests`` and
``emulators/tests`` (which have no ``__init__.py``) are imported by their base name, and they import
``api.*`` / ``emulators.*`` as top-level packages thanks to ``pythonpath = .``.
Consequence: test file names must be unique across ``api/tests`` and ``emulators/tests``.
"""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path, parent):
    path = Path(path).resolve()
    if path == REPO_ROOT or REPO_ROOT in path.parents:
        return pytest.Dir.from_parent(parent, path=path)
    return None
