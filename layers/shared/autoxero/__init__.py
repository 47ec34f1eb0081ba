"""autoxero: the domain package every function imports (deployed as the shared layer)."""

__version__ = "0.1.0"
