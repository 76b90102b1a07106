"""Kikan (基幹): an open, standard-compliant core business system for Japanese municipalities."""

__version__ = "0.1.0"
