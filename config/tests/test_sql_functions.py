"""The workspace schemas' SQL functions: the files are the definitions, and what is installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from config.sql_functions import ApplySQLFile, sql_sha256, sql_text

pytestmark = pytest.mark.django_db

_BODY = re.compile(r"\bAS \$\$(.*?)\$\$;?\s*$", re.S)


def sql_files() -> list[tuple[str, str]]:
    """(app label, function name) of every `<app>/sql/*.sql` file."""
    found = []
    for config in apps.get_app_configs():
        directory = Path(config.path) / "sql"
        if directory.is_dir() and Path(config.path).is_relative_to(Path(__file__).parents[2]):
            found += [(config.label, path.stem) for path in sorted(directory.glob("*.sql"))]
    return found


def applications_in_order() -> list[tuple[str, ApplySQLFile]]:
    """Every ApplySQLFile of every migration, in the order a fresh database runs them."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    plan: list[tuple[str, str]] = []
    for leaf in loader.graph.leaf_nodes():
        plan += [node for node in loader.graph.forwards_plan(leaf) if node not in plan]
    found = []
    for node in plan:
        migration = loader.graph.nodes[node]
        found += [
            (f"{node[0]}.{node[1]}", operation)
            for operation in migration.operations
            if isinstance(operation, ApplySQLFile)
        ]
    return found


def test_there_are_sql_files_in_both_apps():
    files = sql_files()
    assert ("inbox", "visitor_message_write") in files
    assert sum(label == "webhooks" for label, _ in files) >= 10


def test_no_migration_holds_a_function_text():
    for config in apps.get_app_configs():
        directory = Path(config.path) / "migrations"
        if not directory.is_dir() or not Path(config.path).is_relative_to(Path(__file__).parents[2]):
            continue
        for path in directory.glob("*.py"):
            assert not re.search(r"CREATE (OR REPLACE )?FUNCTION", path.read_text(), re.I), (
                f"{path}: a SQL function belongs in {config.label}/sql/<name>.sql, applied by ApplySQLFile"
            )


def test_every_file_is_applied_and_its_last_application_is_pinned_to_its_text():
    last = {}
    for migration, operation in applications_in_order():
        last[(operation.app_label_of_file, operation.name)] = (migration, operation)
    for label, name in sql_files():
        assert (label, name) in last, f"{label}/sql/{name}.sql is applied by no migration"
        migration, operation = last[(label, name)]
        assert operation.sha256 == sql_sha256(label, name), (
            f"{label}/sql/{name}.sql changed since {migration} applied it: add a migration with "
            f'ApplySQLFile("{label}", "{name}", sha256="{sql_sha256(label, name)}")'
        )


def test_what_a_workspace_has_installed_is_the_files(workspaces):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = %s",
            [workspaces.alpha.schema_name],
        )
        installed: dict[str, list[str]] = {}
        for name, source in cursor.fetchall():
            installed.setdefault(name, []).append(source)
    for label, name in sql_files():
        body = _BODY.search(sql_text(label, name)).group(1)
        assert installed.get(name) == [body], f"{name}: installed text differs from {label}/sql/{name}.sql"
    # Nothing else, and no stale overload of an older signature.
    assert set(installed) == {name for _, name in sql_files()}


def test_a_file_must_define_the_function_it_is_named_after(tmp_path, monkeypatch):
    from config import sql_functions

    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "one.sql").write_text("CREATE OR REPLACE FUNCTION other() RETURNS int AS $$ 1 $$;\n")
    monkeypatch.setattr(sql_functions, "sql_path", lambda label, name: tmp_path / "sql" / f"{name}.sql")
    with pytest.raises(ValueError, match="must define one once"):
        sql_functions.sql_text("inbox", "one")
