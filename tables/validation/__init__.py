"""Forward validation of alerts and the NSE round-trip cost model (pure, event time)."""
