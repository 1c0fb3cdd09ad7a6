"""visitor_message_write from its file: waking a snoozed conversation now writes the thread's system
event, as conversation_status_set does, and returns its id (a new column: the function is dropped
first, since CREATE OR REPLACE cannot change what a function returns)."""

from django.db import migrations

from config.sql_functions import ApplySQLFile


class Migration(migrations.Migration):
    dependencies = [("inbox", "0008_visitor_message_webhooks"), ("webhooks", "0004_parking_and_retired_secrets")]

    operations = [
        migrations.RunSQL(
            "DROP FUNCTION IF EXISTS visitor_message_write(bigint, text, uuid, timestamptz)", migrations.RunSQL.noop
        ),
        ApplySQLFile("inbox", "visitor_message_write", sha256="efc554e23851f3b4"),
    ]
