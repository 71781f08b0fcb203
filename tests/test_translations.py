"""The Russian translation is complete, and every term can be extracted at all.

Odoo's exporter reads the Python files with babel, which evaluates each string token inside a
``_()`` call; on Python 3.11 an f-string there (``_("…", price=f"{x:.2f}")``) makes babel fail and
Odoo skips the WHOLE file with only a log line — its terms silently vanish from the .pot and
their translations from ru.po. This test fails on either.
"""

import os

import polib

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

MODULE = "supplier_connector"


@tagged("post_install", "-at_install")
class TestRussianTranslation(TransactionCase):
    def test_every_term_is_extracted_and_translated(self):
        with self.assertNoLogs("odoo.tools.translate", level="ERROR"):
            reader = TranslationModuleReader(self.env.cr, modules=[MODULE])
        terms = {source for module, _type, _name, _res, source, _value, _comments in reader
                 if module == MODULE}
        # Terms of code the exporter must see (one per file that once failed to extract).
        self.assertIn("only %(stock)s in stock", terms)
        self.assertIn("%(connection)s: price moved by %(change)s %%", terms)
        po = polib.pofile(os.path.join(get_module_path(MODULE), "i18n", "ru.po"))
        translated = {entry.msgid for entry in po if entry.msgstr and not entry.obsolete}
        missing = sorted(terms - translated)
        self.assertFalse(missing, f"Terms without a Russian translation in i18n/ru.po: {missing[:20]}")
