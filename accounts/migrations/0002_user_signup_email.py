from django.db import migrations, models

# Accounts made before this field: allauth wrote the sign-up address as the account's first
# EmailAddress row; accounts without one were made by hand and have only their email.
BACKFILL = """
UPDATE accounts_user u SET signup_email = COALESCE(
    (SELECT e.email FROM account_emailaddress e WHERE e.user_id = u.id ORDER BY e.id LIMIT 1), u.email)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="user", name="signup_email", field=models.EmailField(blank=True, max_length=254)
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
