"""A delivery turned away because its workspace is suspended is marked held (`held_at`), and
unsuspending queues only the held ones.

Before, unsuspending queued every pending delivery of the workspace again, due now: one waiting out a
retry was sent at once (its schedule lapsed), one of a disabled endpoint got a job that did nothing,
and one in flight since before the suspension got a second job that could send it twice.
"""

from django.db import migrations, models

from config.sql_functions import ApplySQLFile


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0005_claim_waits_while_suspended")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="held_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("held_at__isnull", False)), fields=["id"], name="delivery_held_idx"
            ),
        ),
        ApplySQLFile("webhooks", "webhook_delivery_claim", sha256="a57a959b66b95a3f"),
    ]
