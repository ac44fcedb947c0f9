"""cleaner: turn raw news and web scrapes into clean, single-article records."""

from cleaner.errors import CleanerError, DataError, InputError, ModelError
from cleaner.types import Document, Label, Line, Record

__version__ = "0.1.0"

# The pipeline imports numpy and scikit-learn lazily through its stages; importing it here keeps
# `from cleaner import clean` working while `import cleaner.read` alone stays light.
from cleaner.pipeline import Cleaned, clean, clean_documents, label_lines

__all__ = [
    "Cleaned",
    "CleanerError",
    "DataError",
    "Document",
    "InputError",
    "Label",
    "Line",
    "ModelError",
    "Record",
    "clean",
    "clean_documents",
    "label_lines",
]
