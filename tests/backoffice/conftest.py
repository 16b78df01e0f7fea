"""Back office fixtures: a signed-in staff client per role (admin, operator, analyst)."""

import pytest
from django.contrib.auth.models import Group, User

from config.roles import roles_sync
from tests.rewards.rules.conftest import _jurisdictions_seed  # noqa: F401  (autouse)
from tests.wallet.conftest import ledger_conserved, player  # noqa: F401  (fixtures)

PASSWORD = "back-office-password"


def staff_user(role: str) -> User:
    """A staff user (not a superuser) whose only role is `role`."""
    roles_sync()
    user = User.objects.create_user(f"{role}-staff", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def staff_client_for(db, client):
    """`staff_client_for("analyst")`: the Django test client signed in as that role."""

    def make(role: str):
        client.force_login(staff_user(role))
        return client

    return make
