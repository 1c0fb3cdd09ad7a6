"""The visitor's message write as a function in each workspace schema: inbox/sql/visitor_message_write.sql."""

from django.db import migrations

from config.sql_functions import ApplySQLFile


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]

    operations = [
        ApplySQLFile(
            "inbox",
            "visitor_message_write",
            reverse_sql="DROP FUNCTION visitor_message_write(bigint, text, uuid, timestamptz)",
        )
    ]
