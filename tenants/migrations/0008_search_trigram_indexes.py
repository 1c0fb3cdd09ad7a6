"""Trigram indexes for the staff list's search (a part of a name, an address or a member's email:
`UPPER(column) LIKE UPPER('%…%')`, as Django's icontains writes it), where the server has pg_trgm.

pg_trgm comes with PostgreSQL's contrib, in every packaged server (the postgres:16 image among them)
and is a trusted extension: a database's owner may create it. The embedded server of development and
tests (pgserver) has no contrib: there the search reads every row, which at 10,000 workspaces stays
within the list's budget (bench/staff_console.py), and this migration does nothing.

The accounts_user index is made here, not in accounts, because it serves only this search.
"""

from django.db import migrations

CREATE = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX IF NOT EXISTS workspace_name_trgm ON tenants_workspace
            USING gin (upper(name::text) gin_trgm_ops) WHERE claimed_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS workspace_slug_trgm ON tenants_workspace
            USING gin (upper(slug::text) gin_trgm_ops) WHERE claimed_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS user_email_trgm ON accounts_user
            USING gin (upper(email::text) gin_trgm_ops);
    END IF;
END
$$;
"""
DROP = "DROP INDEX IF EXISTS workspace_name_trgm, workspace_slug_trgm, user_email_trgm;"


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0007_workspace_list_indexes"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
