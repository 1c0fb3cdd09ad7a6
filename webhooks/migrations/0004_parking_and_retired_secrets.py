"""A delivery that finds every slot of its endpoint taken is parked, instead of holding a worker.

Before, such a job waited in the worker for a slot (up to PARLEY_WEBHOOK_SLOT_WAIT) and then went back
to the end of the queue, again and again: a slow receiver's jobs filled the worker's job slots and every
other endpoint, of every workspace, waited behind them. Now the claim parks it (`parked_at`) and returns
at once; each slot given back hands itself to the longest-parked delivery of that endpoint by queueing
its job, so an endpoint's deliveries run as a lane as wide as its slots and cost no one else a slot.
A parked delivery also keeps a job due when every lease has run out: the backstop for a slot whose
worker died holding it (nothing would hand that slot on).

And every secret a rotation replaced signs until its own overlap ends (`retired_secrets`): with one
`previous_secret`, a second rotation within 24 hours dropped the first secret at once.
"""

from django.db import migrations, models

from config.sql_functions import ApplySQLFile

RETIRED_FROM_PREVIOUS = r"""
UPDATE webhooks_endpoint
SET retired_secrets = jsonb_build_array(jsonb_build_object(
    'sealed', previous_secret_sealed,
    'expires_at', to_char(previous_secret_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')))
WHERE previous_secret_sealed <> '' AND previous_secret_expires_at > now();
"""

PREVIOUS_FROM_RETIRED = r"""
UPDATE webhooks_endpoint
SET previous_secret_sealed = retired_secrets -> -1 ->> 'sealed',
    previous_secret_expires_at = (retired_secrets -> -1 ->> 'expires_at')::timestamptz
WHERE jsonb_array_length(retired_secrets) > 0;
"""


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0003_delivery_functions")]

    operations = [
        migrations.AddField(
            model_name="endpoint",
            name="retired_secrets",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunSQL(RETIRED_FROM_PREVIOUS, PREVIOUS_FROM_RETIRED),
        migrations.RemoveField(model_name="endpoint", name="previous_secret_expires_at"),
        migrations.RemoveField(model_name="endpoint", name="previous_secret_sealed"),
        migrations.AddField(
            model_name="delivery",
            name="parked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("parked_at__isnull", False)),
                fields=["endpoint", "id"],
                name="delivery_parked_idx",
            ),
        ),
        # The queueing clears `parked_at`; the claim parks, the release hands a slot on.
        ApplySQLFile(
            "webhooks",
            "webhook_deliveries_enqueue",
            sha256="92c67e6fa72f02ec",
            reverse_sql="DROP FUNCTION webhook_deliveries_enqueue(bigint[], timestamptz)",
        ),
        ApplySQLFile(
            "webhooks",
            "webhook_delivery_claim",
            sha256="4a7412a0306ef60e",
            reverse_sql="DROP FUNCTION webhook_delivery_claim(bigint, integer, uuid, integer, double precision)",
        ),
        ApplySQLFile(
            "webhooks",
            "webhook_lease_release",
            sha256="daebbd22d2255be9",
            reverse_sql="DROP FUNCTION webhook_lease_release(bigint, integer, uuid)",
        ),
        ApplySQLFile(
            "webhooks",
            "webhook_delivery_record",
            sha256="5f95ab152baa64a2",
            reverse_sql="DROP FUNCTION webhook_delivery_record("
            "bigint, bigint, integer, uuid, integer, integer, text, text, double precision[], double precision)",
        ),
    ]
