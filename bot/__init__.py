"""collectbot: a collections assistant for accounts receivable."""

__version__ = "0.1.0"
