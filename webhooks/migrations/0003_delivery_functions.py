"""The worker's two writes as functions: claim a delivery, record its attempt.

Databases migrated before the SQL moved to files got them here; a fresh database gets their
current text in 0004 (webhooks/sql/webhook_delivery_claim.sql, webhook_delivery_record.sql).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0002_outbox_functions")]

    operations = []
