"""cleaner: turn raw news and web scrapes into clean, single-article records."""

from cleaner.errors import CleanerError, DataError, InputError, ModelError
from cleaner.types import Document, Label, Line, Record

__all__ = [
    "CleanerError",
    "DataError",
    "Document",
    "InputError",
    "Label",
    "Line",
    "ModelError",
    "Record",
]
__version__ = "0.1.0"
