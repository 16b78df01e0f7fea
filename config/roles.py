"""Roles (SPEC §10) as Django groups: what each may read and change, in the API and the admin.

- admin: everything.
- operator: runs the product: rules, rewards, imports, players, wallet operations.
- analyst: reads everything, changes nothing.
- service: an external system (PAM, aggregator): posts events and reads.

Personal data (a player's username, email and IP fingerprints, SPEC §3) is shown in full only to
the roles in `PII_ROLES` (admin, operator: they act on players); everyone else sees it masked
(`j***@e***.com`) and cannot search by it (docs/api.md "Authentication and roles").
"""

from django.contrib.auth.models import Group, Permission

ADMIN = "admin"
OPERATOR = "operator"
ANALYST = "analyst"
SERVICE = "service"
ROLES = (ADMIN, OPERATOR, ANALYST, SERVICE)
PII_ROLES = frozenset({ADMIN, OPERATOR})
PITBOSS_APPS = ("players", "rewards", "wallet", "safety", "importer", "django_celery_beat")


def roles_sync(**_kwargs) -> None:
    """Create the role groups and give them their admin permissions (runs after migrate)."""
    pitboss = Permission.objects.filter(content_type__app_label__in=PITBOSS_APPS)
    grants = {
        ADMIN: Permission.objects.all(),
        OPERATOR: pitboss,
        ANALYST: pitboss.filter(codename__startswith="view_"),
        SERVICE: Permission.objects.none(),
    }
    for name, permissions in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def user_roles(user) -> set[str]:
    if user is None or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return {ADMIN}
    cached = getattr(user, "_pitboss_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._pitboss_roles = cached
    return cached


def may_see_pii(user) -> bool:
    """Whether `user` may read players' personal data unmasked (`PII_ROLES`)."""
    return bool(user_roles(user) & PII_ROLES)
