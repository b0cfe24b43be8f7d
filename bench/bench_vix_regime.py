"""Figures: alerts per pattern by VIX regime, and the Greeks of option alerts, on the sample.

Runs the direct driver on the bundled sample session with its daily history, with
``volume_spike`` enabled for options too, once per previous INDIA VIX close given (none:
no regime), and prints per run the alerts per pattern, the regime recorded on them, the
option alerts and their Greeks records (computed, or the reason why not).

Run: ``python bench/bench_vix_regime.py [--closes none,15,19,30]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml
from sample_inputs import load_sample_inputs

from aion.agents.context import VIX_SYMBOL, analytics_config
from aion.agents.direct import run_direct
from aion.config import Settings
from aion.config.patterns import load_patterns
from aion.tables.records import AlertGreeks, AlertRecord


def main() -> int:
    """Print the figures; 0 on success."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--closes", default="none,15,19,30",
                    help="previous INDIA VIX closes to run with ('none': no regime)")
    args = ap.parse_args()
    blocks = {k: dict(v) for k, v in load_patterns().items()}
    blocks["volume_spike"]["applies_to"] = [*blocks["volume_spike"]["applies_to"], "option"]
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp) / "patterns.yaml"
        registry.write_text(yaml.safe_dump({"patterns": blocks}))
        settings = Settings.load(env={"AION_PATTERNS__FILE": str(registry)})
        config = analytics_config(settings.get)
    sample = load_sample_inputs(settings)
    path, master, base = sample.path, sample.master, sample.averages
    for close in args.closes.split(","):
        averages = dict(base)
        if close != "none":
            averages[VIX_SYMBOL] = {"last_close": float(close), "as_of": "2025-11-17"}
        run = run_direct(path, master, partitions=4, bundle_packets=2000, averages=averages,
                         config=config)
        alerts = [r for r in run.records if isinstance(r, AlertRecord)]
        greeks = [r for r in run.records if isinstance(r, AlertGreeks)]
        options = [a for a in alerts if master.by_token(a.token).is_option]
        regimes = Counter((a.vix_regime, a.vix_multiplier, a.vix_basis) for a in alerts)
        print(f"previous VIX close {close}: {len(alerts)} alerts, regimes {dict(regimes)}")
        print(f"  per pattern: {dict(sorted(Counter(a.pattern for a in alerts).items()))}")
        print(f"  option alerts {len(options)}, Greeks records {len(greeks)}, reasons "
              f"{dict(Counter(g.reason or 'computed' for g in greeks))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
