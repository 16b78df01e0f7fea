"""The lock files (requirements/*.lock, ADR 0019) agree with pyproject.toml: every declared
dependency is pinned, at a version its bounds allow, with hashes. Offline: `make lock-check`
(the weekly job) compares them with a fresh resolution from PyPI."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\],]+)==([^\s;\\]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {canonicalize_name(name.split("[")[0]): version for name, version in PIN.findall(text)}


def _unpinned(requirements: list[str], pinned: dict[str, str]) -> list[str]:
    wrong = []
    for line in requirements:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate({"python_version": "3.11"}):
            continue
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            wrong.append(f"{line} (lock: {version})")
    return wrong


@pytest.mark.parametrize(
    "lock, requirements",
    [
        ("runtime.lock", PROJECT["dependencies"]),
        ("dev.lock", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
    ],
)
def test_every_dependency_is_pinned_within_its_bounds(lock, requirements):
    assert not _unpinned(requirements, pins(lock)), "run `make lock` (docs/operations.md)"


def test_the_runtime_lock_holds_no_development_tool():
    runtime = pins("runtime.lock")
    dev_only = {
        canonicalize_name(Requirement(r).name) for r in PROJECT["optional-dependencies"]["dev"]
    }
    assert "gunicorn" in runtime  # the application server is a runtime dependency
    assert not dev_only & runtime.keys() - {"pyyaml", "jsonschema"}  # also pulled in at runtime


def test_every_pin_has_a_hash():
    for lock in ("runtime.lock", "dev.lock"):
        entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements" / lock).read_text())
        for entry in entries:
            if PIN.match(entry):
                assert "--hash=sha256:" in entry, (lock, entry.splitlines()[0])


def test_a_dependency_missing_from_the_lock_is_caught():
    missing = "pitboss-no-such-package>=6"
    assert _unpinned([missing], pins("runtime.lock")) == [f"{missing} (lock: None)"]
    assert _unpinned(["Django<1"], pins("runtime.lock"))
