"""Existing DRF tokens become hashed API tokens (they keep working); the clear-text rows go."""

import hashlib

from django.db import migrations


def hash_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in Token.objects.all():
        ApiToken.objects.get_or_create(
            key_hash=hashlib.sha256(token.key.encode()).hexdigest(),
            defaults={"user_id": token.user_id, "prefix": token.key[:8], "name": "migrated"},
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("authtoken", "0004_alter_tokenproxy_options")]
    operations = [migrations.RunPython(hash_tokens, migrations.RunPython.noop)]
