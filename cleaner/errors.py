"""The exceptions the library raises: every failure is a CleanerError subclass."""

from __future__ import annotations


class CleanerError(Exception):
    """Base class of every error cleaner raises on purpose."""


class InputError(CleanerError):
    """An input file is missing, unreadable, binary or cannot be decoded."""


class ModelError(CleanerError):
    """A model file is missing, corrupt, unverified or incompatible."""


class DataError(CleanerError):
    """Annotated training or evaluation data is malformed."""
