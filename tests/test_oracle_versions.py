"""The oracles the tests trust are exactly the versions ``pyproject.toml`` pins.

An oracle's answers are our expected values: when py_vollib's successor began to answer
0.0 where it used to answer NaN, two tests went red on every fresh install. The ``dev``
extra pins each oracle exactly; this test fails loudly when what is installed is not
what is pinned (an upgrade by hand, an old venv, a resolver that ignored the pin).
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
ORACLES = {
    "kiteconnect", "ta-lib", "talipp", "vollib", "lets-be-rational", "piecewise-rational",
    "pandas-market-calendars", "marketprofile",
    "smartmoneyconcepts",
}
"""Canonical names of every package a test or bench script uses as an oracle."""


def pinned() -> dict[str, Requirement]:
    """Oracle name -> its requirement in the ``dev`` extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return {canonicalize_name(r.name): r for r in reqs if canonicalize_name(r.name) in ORACLES}


def test_every_oracle_is_pinned_exactly() -> None:
    pins = pinned()
    assert set(pins) == ORACLES, f"not in the dev extra: {sorted(ORACLES - set(pins))}"
    for name, req in pins.items():
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{name}: {req} is not a pin"


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_installed_oracle_is_the_tested_version(name: str) -> None:
    req = pinned()[name]
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        pytest.fail(f"oracle {name} is not installed: pip install -e '.[dev]'")
    assert req.specifier.contains(installed, prereleases=True), (
        f"oracle {name} {installed} is outside the tested range {req.specifier}: the tests "
        f"were validated against {req}; reinstall with pip install -e '.[dev]', or bump the "
        "pin deliberately and re-check the oracle tests"
    )


def test_the_deprecated_py_vollib_shim_is_not_what_we_test_against() -> None:
    # Tests and bench/ import the maintained package; the shim only re-exports it.
    for path in [*ROOT.joinpath("tests").rglob("*.py"), *ROOT.joinpath("bench").rglob("*.py")]:
        if path.name == Path(__file__).name:
            continue
        assert "py_vollib" not in path.read_text(), path
