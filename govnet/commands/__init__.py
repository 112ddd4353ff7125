"""One module per command; this list is what ``govnet`` offers."""

from .plan import schema, show, validate

COMMANDS = [validate, show, schema]
