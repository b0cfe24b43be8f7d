"""aion.agents."""
