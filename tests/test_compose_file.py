"""`docker-compose.yml` is valid against the Compose Specification's JSON schema (no Docker
engine runs here), runs the documented processes, and ships no secret."""

import json
from pathlib import Path

import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_file_is_valid_against_the_specification():
    schema = json.loads((ROOT / "deploy" / "compose-spec.schema.json").read_text())
    errors = sorted(Draft7Validator(schema).iter_errors(compose()), key=str)
    assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_it_declares_the_production_processes_and_no_secret():
    services = compose()["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    environment = services["web"]["environment"]
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")  # required, no default
    assert "DJANGO_SETTINGS_MODULE" not in environment  # production is the default
