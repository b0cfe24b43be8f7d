"""aion.tables."""
