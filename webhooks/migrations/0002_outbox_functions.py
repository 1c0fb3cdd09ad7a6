"""The webhook outbox as functions in each workspace schema (webhooks/sql/).

`webhook_event_record` records an event inside the transaction of the change that caused it, with
the documented objects built once by `webhook_*_data`. Its queueing (webhook_deliveries_enqueue)
reads a column added in 0004, so it is applied there.
"""

from django.db import migrations

from config.sql_functions import ApplySQLFile

# (file, its hash (config.sql_functions), the signature that drops it when this migration is reversed)
FUNCTIONS = [
    ("webhook_time", "f903244f3a609d1d", "webhook_time(timestamptz)"),
    ("webhook_user_data", "10afa34883902489", "webhook_user_data(bigint)"),
    ("webhook_conversation_data", "b5d91bd2f4920033", "webhook_conversation_data(bigint)"),
    ("webhook_message_data", "1071ee35c14872c5", "webhook_message_data(bigint)"),
    ("webhook_contact_data", "1d19ff1a03d1d761", "webhook_contact_data(bigint)"),
    ("webhook_wanted", "7b6f801f0fe3248c", "webhook_wanted(text, boolean)"),
    ("webhook_event_record", "c004a336e81f0f3c", "webhook_event_record(text, jsonb, boolean, bigint)"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("inbox", "0007_contact_recent_pages"),
    ]

    operations = [
        ApplySQLFile("webhooks", name, sha256=sha256, reverse_sql=f"DROP FUNCTION {signature}")
        for name, sha256, signature in FUNCTIONS
    ]
