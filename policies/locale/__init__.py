"""Message catalogues (gettext PO files), one folder per language: see :mod:`policies.i18n`."""
