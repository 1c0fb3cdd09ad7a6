"""visitor_message_write now records its webhook events (webhooks 0002) in its own transaction.

Its text is inbox/sql/visitor_message_write.sql, applied since 0002 (a fresh database gets the
current text there); databases migrated before the SQL moved to files got it here, and 0009 applies
the file again.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inbox", "0007_contact_recent_pages"), ("webhooks", "0002_outbox_functions")]

    operations = []
