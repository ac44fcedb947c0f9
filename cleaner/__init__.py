"""cleaner: turn raw news and web scrapes into clean, single-article records."""

from cleaner.errors import CleanerError, DataError, InputError, ModelError
from cleaner.types import Document, Label, Line, Record

__version__ = "0.1.0"

# The pipeline pulls in numpy; scikit-learn, trafilatura and langdetect are imported only when a
# model is loaded, an HTML page read or a language detected.
from cleaner.batch import clean_bag, clean_iter
from cleaner.label import Model, load_model
from cleaner.pipeline import Cleaned, clean, clean_documents, label_lines

__all__ = [
    "Cleaned",
    "CleanerError",
    "DataError",
    "Document",
    "InputError",
    "Label",
    "Line",
    "Model",
    "ModelError",
    "Record",
    "clean",
    "clean_bag",
    "clean_documents",
    "clean_iter",
    "label_lines",
    "load_model",
]
