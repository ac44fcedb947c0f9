"""The shipped model files (installed as the package cleaner.models)."""
