"""A comparable description of one PostgreSQL schema: what migrations made, with the schema name taken out."""

from __future__ import annotations

from django.db import connection

_QUERIES = {
    "columns": """
        SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, ''),
               coalesce(character_maximum_length, 0)
        FROM information_schema.columns WHERE table_schema = %(schema)s
    """,
    "constraints": """
        SELECT rel.relname, con.conname, con.contype, pg_get_constraintdef(con.oid, true)
        FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
        WHERE con.connamespace = %(schema)s::regnamespace
    """,
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(schema)s",
    "sequences": """
        SELECT sequence_name, data_type FROM information_schema.sequences WHERE sequence_schema = %(schema)s
    """,
    # proconfig holds the search_path a function was pinned to: its own schema, never another.
    "functions": """
        SELECT proname, pg_get_function_identity_arguments(oid), prosrc, array_to_string(proconfig, ',')
        FROM pg_proc WHERE pronamespace = %(schema)s::regnamespace
    """,
    "migrations": "SELECT app, name FROM {schema}.django_migrations",
}


def schema_fingerprint(schema_name: str) -> dict[str, list[tuple]]:
    """Tables, columns, constraints (with names), indexes, sequences, functions and applied migrations."""
    fingerprint = {}
    with connection.cursor() as cursor:
        for kind, sql in _QUERIES.items():
            cursor.execute(sql.format(schema=connection.ops.quote_name(schema_name)), {"schema": schema_name})
            rows = [
                tuple(str(value).replace(schema_name, "<schema>") for value in row)
                for row in cursor.fetchall()
            ]
            fingerprint[kind] = sorted(rows)
    return fingerprint
