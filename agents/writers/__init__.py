"""Redis writers: one per record type (see :mod:`aion.agents.writers.base`)."""
