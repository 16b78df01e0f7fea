"""The benchmarks' scratch databases (bench/db.py): copies of one template database per run,
migrated once, dropped at the end; a template left by a killed run is made again."""

import pytest
from django.db import connection, connections

from bench import db as bench_db

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def migrations(monkeypatch):
    """`migrate` replaced by one table written into the database Django is on (the template),
    so that a copy shows what was migrated; → the names of the databases it ran in."""
    ran = []

    def migrate(*args, **kwargs):
        ran.append(connection.settings_dict["NAME"])
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_migrated (id int)")
            cursor.execute("INSERT INTO bench_migrated VALUES (1)")

    monkeypatch.setattr(bench_db, "call_command", migrate)
    return ran


def _databases() -> set[str]:
    with bench_db._admin() as admin:
        return {name for (name,) in admin.execute("SELECT datname FROM pg_database")}


def _migrated_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_migrated")
        return cursor.fetchone()[0]


def test_scratch_databases_of_a_run_are_copies_of_one_template_migrated_once(migrations):
    original = connection.settings_dict["NAME"]
    template = f"{original}_template"
    with bench_db.migrated_templates():
        with bench_db.scratch_database("one") as first:
            assert connection.settings_dict["NAME"] == first == f"{original}_one"
            assert _migrated_rows() == 1
            assert template in _databases()
        with bench_db.scratch_database("two") as second:
            assert _migrated_rows() == 1
        assert migrations == [template]  # once, into the template
        assert connection.settings_dict["NAME"] == original
        assert {first, second}.isdisjoint(_databases())  # each dropped after its benchmark
        with bench_db._admin() as admin:
            (allowed,) = admin.execute(
                "SELECT datallowconn FROM pg_database WHERE datname = %s", [template]
            ).fetchone()
        assert allowed is False  # nothing can connect to it and make a copy fail
    assert template not in _databases()  # dropped at the end of the run


def test_a_template_left_by_a_killed_run_is_made_again(migrations):
    template = f"{connection.settings_dict['NAME']}_template"
    with bench_db._admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{template}"')
        admin.execute(f'CREATE DATABASE "{template}"')  # stale: not migrated
    with bench_db.scratch_database("stale"):
        assert _migrated_rows() == 1
    assert migrations == [template]
    assert template not in _databases()  # outside a run: dropped with its scratch database


def test_a_failed_migration_leaves_no_template_behind(monkeypatch):
    def migrate(*args, **kwargs):
        raise RuntimeError("migration failed")

    monkeypatch.setattr(bench_db, "call_command", migrate)
    original = connection.settings_dict["NAME"]
    with pytest.raises(RuntimeError), bench_db.scratch_database("broken"):
        pass
    assert connection.settings_dict["NAME"] == original
    assert {f"{original}_template", f"{original}_broken"}.isdisjoint(_databases())
    connections.close_all()
