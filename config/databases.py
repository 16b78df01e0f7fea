"""Where analytics reads go: the read replica when one is configured (docs/scaling.md).

Reports that add up many players (the segment distribution, the player list with its filters,
dashboards) read through `analytics_database()`: `PITBOSS["ANALYTICS_DATABASE"]`, set to
"replica" when `DATABASE_REPLICA_URL` is. Writes, and reads that decide money or must see what
the same request just wrote, always use the primary ("default"). A replica lags by its
replication delay: reports are seconds behind at worst, never wrong.
"""

from django.conf import settings


def analytics_database() -> str:
    alias = settings.PITBOSS.get("ANALYTICS_DATABASE", "default")
    return alias if alias in settings.DATABASES else "default"
