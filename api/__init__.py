"""aion.api."""
