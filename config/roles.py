"""Roles (SPEC §10, §11) as Django groups: what each may read and change, in the API and the admin.

- admin: everything, and alone changes policies (segmentation, safety, balance, jurisdiction
  limits, currencies and rates, house edges, budgets and approval thresholds, schedules,
  webhooks, aggregators) and roles (users, groups).
- operator: runs the product: rules (their expressions and terms, not their budget fields),
  runs, imports, the review queue, players, grants / forfeits / adjustments, fraud flags; reads
  the policies.
- analyst: reads everything, changes nothing.
- service: an external system (PAM, aggregator): posts events and reads, through the API only.

The admin's part is Django permissions given to the groups by `roles_sync`, which runs after
every `migrate` (post_migrate) and is idempotent: each group's permissions are set to exactly the
matrix below. Field-level rules sit in the admin classes (a rule's budget fields need
`rewards.change_rulebudget`). docs/back-office-security.md has the table.

Personal data (a player's username, email and IP fingerprints, SPEC §3) is shown in full only to
the roles in `PII_ROLES` (admin, operator: they act on players); everyone else sees it masked
(`j***@e***.com`) and cannot search by it (docs/api.md "Authentication and roles").
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

ADMIN = "admin"
OPERATOR = "operator"
ANALYST = "analyst"
SERVICE = "service"
ROLES = (ADMIN, OPERATOR, ANALYST, SERVICE)
PII_ROLES = frozenset({ADMIN, OPERATOR})
PITBOSS_APPS = ("players", "rewards", "wallet", "safety", "importer", "webhooks")
# What staff read besides the product: schedules, API tokens, the audit log, sign-in attempts.
READ_ALSO_APPS = ("django_celery_beat", "accounts", "auditlog", "axes")
# Policies: only admins add, change or delete these (operators and analysts read them).
POLICY_MODELS = {
    "players": ("segmentpolicy", "vipthreshold", "currency", "exchangerate"),
    "rewards": ("jurisdictionlimit", "rulebudget"),
    "safety": ("safetypolicy", "signalweight", "houseedge"),
    "wallet": ("balancepolicy", "aggregator", "game"),
    "webhooks": ("webhookendpoint", "webhookdelivery"),
}


def _policies() -> Q:
    found = Q(pk__in=[])
    for app, models in POLICY_MODELS.items():
        found |= Q(content_type__app_label=app, content_type__model__in=models)
    return found


def role_permissions() -> dict[str, object]:
    """Each role's admin permissions, as querysets of `Permission`."""
    product = Permission.objects.filter(content_type__app_label__in=PITBOSS_APPS)
    readable = Permission.objects.filter(
        content_type__app_label__in=PITBOSS_APPS + READ_ALSO_APPS, codename__startswith="view_"
    )
    return {
        ADMIN: Permission.objects.all(),
        OPERATOR: (product.exclude(_policies()) | readable).distinct(),
        ANALYST: readable,
        SERVICE: Permission.objects.none(),
    }


def roles_sync(app_config=None, **_kwargs) -> None:
    """Create the role groups and set their admin permissions to `role_permissions()`; running
    it again changes nothing. After migrate it runs once, on the last app's post_migrate signal,
    when every app's permissions have been created."""
    if app_config is not None and app_config is not list(apps.get_app_configs())[-1]:
        return
    from auditlog.context import disable_auditlog

    # The matrix is code (reviewed in git): its sync is not audited; a change made to a group in
    # the admin is.
    with disable_auditlog():
        for name, permissions in role_permissions().items():
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
