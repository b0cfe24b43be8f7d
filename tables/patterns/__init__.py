"""Pattern detectors and the mathematics and risk they share (pure, event time)."""
