"""The dependency order of the apps (STYLE.md, ADR 0008), asserted on every test run.

import-linter reads every import, including those inside functions, and checks the contracts
in pyproject.toml: the apps are layered (importer > rewards > safety > wallet > players), the
expression language imports no app, and no two modules of an app import each other.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from importer import pipeline

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_players_module_imports_a_higher_app():
    """The same rule as the layers contract, read straight from the source, for `players`."""
    offenders = []
    for path in (ROOT / "players").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            words = line.split()
            importing = len(words) >= 2 and words[0] in ("from", "import")
            if importing and words[1].split(".")[0] in ("wallet", "rewards", "safety", "importer"):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_declared_post_import_step_imports():
    pipeline.post_import_services.cache_clear()
    services = pipeline.post_import_services()
    assert {"metrics", "segmentation"} <= set(services)
    assert all(callable(service) for service in services.values())


def test_a_typo_in_a_post_import_step_fails_loudly(monkeypatch):
    config = apps.get_app_config("players")
    monkeypatch.setattr(
        config, "post_import_steps", {"metrics": "players.services.metrics_refresh_typo"}
    )
    pipeline.post_import_services.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="metrics_refresh_typo"):
            pipeline.post_import_services()
    finally:
        monkeypatch.undo()
        pipeline.post_import_services.cache_clear()
