"""AION Stream: replayable market-data engine for NSE/NFO."""

__version__ = "0.1.0"
