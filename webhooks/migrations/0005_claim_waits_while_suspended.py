"""The claim sends nothing for a suspended workspace (staff console): its deliveries stay pending, with
no job retrying them, and unsuspending queues them again (webhooks.services.deliveries_resume)."""

from django.db import migrations

from config.sql_functions import ApplySQLFile


class Migration(migrations.Migration):
    # The claim reads the workspace's `suspended_at`, which tenants 0004 adds.
    dependencies = [("webhooks", "0004_parking_and_retired_secrets"), ("tenants", "0004_suspension_deletion")]

    operations = [ApplySQLFile("webhooks", "webhook_delivery_claim", sha256="8b33dfa0e0eef9b6")]
