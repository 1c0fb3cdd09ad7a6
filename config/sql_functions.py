"""The SQL functions of each workspace schema: one `.sql` file per function, applied by migrations.

Some writes must be SQL to be fast (the visitor's one-statement message write, the webhook outbox,
the worker's claim and record). Each such function lives in `<app>/sql/<function>.sql`, one
`CREATE OR REPLACE FUNCTION` per file, read and reviewed like the rest of the code. Migrations apply
a file by name (`ApplySQLFile`); they hold no function text and never rebuild one from another
migration's text.

A migration reads the file as it is *now*, so a fresh database gets the current text wherever the
file is first applied. Two rules keep that sound:
- changing a file needs a new migration that applies it again, pinned to the file's new hash
  (`sha256=`). config/tests/test_sql_functions.py checks that the last application of every file is
  pinned to its current text, and that what is installed equals the files;
- a LANGUAGE sql function is checked against the tables when it is created, so it is first applied
  where every column it reads exists (PL/pgSQL bodies are only checked when they run). A changed
  signature needs `DROP FUNCTION IF EXISTS <old signature>` before the new migration applies the
  file: a fresh database already has the new one.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from django.apps import apps
from django.db import migrations

_DEFINITION = re.compile(r"^CREATE OR REPLACE FUNCTION (\w+)\(", re.M)


def sql_path(app_label: str, name: str) -> Path:
    """Where the function `name` of `app_label` is defined."""
    return Path(apps.get_app_config(app_label).path) / "sql" / f"{name}.sql"


def sql_text(app_label: str, name: str) -> str:
    """The file's text, checked to define exactly the function it is named after."""
    text = sql_path(app_label, name).read_text()
    defined = _DEFINITION.findall(text)
    if defined != [name]:
        raise ValueError(f"{app_label}/sql/{name}.sql must define {name} once; it defines {defined}")
    return text


def sql_sha256(app_label: str, name: str) -> str:
    """The first 16 hex digits of the file's SHA-256, as migrations pin it."""
    return hashlib.sha256(sql_path(app_label, name).read_bytes()).hexdigest()[:16]


class ApplySQLFile(migrations.RunSQL):
    """Create or replace the function defined in `<app_label>/sql/<name>.sql`.

    `sha256`: the file's hash when this migration was written (sql_sha256); required on the last
    migration that applies a file. `reverse_sql`: what undoes it (the first application drops the
    function; later ones cannot restore an older text, and do nothing).
    """

    def __init__(self, app_label: str, name: str, *, sha256: str | None = None, reverse_sql=None) -> None:
        self.app_label_of_file = app_label
        self.name = name
        self.sha256 = sha256
        # Read lazily: apps are not ready when migration modules are imported by some commands.
        super().__init__(
            sql="", reverse_sql=reverse_sql if reverse_sql is not None else migrations.RunSQL.noop
        )

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.sql = sql_text(self.app_label_of_file, self.name)
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Apply {self.app_label_of_file}/sql/{self.name}.sql"

    def deconstruct(self):
        kwargs = {"sha256": self.sha256} if self.sha256 else {}
        if self.reverse_sql is not migrations.RunSQL.noop:
            kwargs["reverse_sql"] = self.reverse_sql
        return (self.__class__.__qualname__, [self.app_label_of_file, self.name], kwargs)
