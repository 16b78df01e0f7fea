"""Role-based API permission: every role reads; a view names the roles that may write."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from config.roles import ADMIN, ANALYST, OPERATOR, SERVICE, user_roles

READ_ROLES = frozenset({ADMIN, OPERATOR, ANALYST, SERVICE})
DEFAULT_WRITE_ROLES = frozenset({ADMIN, OPERATOR})


class RolePermission(BasePermission):
    message = "Your role may not do this."

    def has_permission(self, request, view) -> bool:
        roles = user_roles(request.user)
        if request.method in SAFE_METHODS:
            return bool(roles & READ_ROLES)
        return bool(roles & getattr(view, "write_roles", DEFAULT_WRITE_ROLES))
