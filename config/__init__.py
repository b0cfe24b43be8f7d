"""aion.config."""
