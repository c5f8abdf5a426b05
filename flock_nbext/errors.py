"""Every error flock shows a user is a FlockError: one line that names the problem.

Subclasses exist only where callers need to tell failures apart.
"""

from __future__ import annotations


class FlockError(Exception):
    """A problem flock reports to the user in one clear line (never a traceback of ours)."""


class ConfigError(FlockError, ValueError):
    """A setting (magic argument, environment variable, config file entry) is invalid."""


class AnalysisError(FlockError):
    """Source text or a notebook file could not be analysed (unreadable, malformed, too large)."""


class ConversionError(FlockError):
    """A model could not be converted to ONNX, or no candidate passed validation."""


class UnsupportedModelError(ConversionError, TypeError):
    """The model's type has no converter; the message lists what is supported."""


class DatabaseError(FlockError):
    """A database could not be reached or used; the message names it with the password redacted."""


class TrackingError(FlockError):
    """The MLflow tracking store refused or could not take what flock sent."""
