"""`GET /api/v1/exports/<kind>/?format=csv|xlsx&<the list endpoint's filters>` (config/exports.py).

`format` is this endpoint's own parameter, not DRF's renderer switch: the view always negotiates
JSON (for its errors) and answers a download itself. Admins, operators and analysts may export;
personal data is masked for roles that may not read it. A service account may not export.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from config.exports import EXPORT_KINDS, FORMATS, export_filtered, export_kind, export_response
from config.roles import ADMIN, ANALYST, OPERATOR, user_roles

EXPORT_ROLES = frozenset({ADMIN, OPERATOR, ANALYST})


class StaffRole(BasePermission):
    message = "Only staff roles (admin, operator, analyst) may export."

    def has_permission(self, request, view) -> bool:
        return bool(user_roles(request.user) & EXPORT_ROLES)


class FirstRenderer(BaseContentNegotiation):
    """JSON for errors whatever `format` or Accept says (the download is answered directly)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return None


FILTERS_NOTE = (
    "Any filter of the kind's list endpoint: players as `GET players/` (segment, status, "
    "country, currency, custom_segment, min_/max_<metric>_<window>, registered_after/before); "
    "rewards as `GET rewards/` (status, rule, run, player) plus created_after/before; decisions: "
    "rule, run, outcome, player, created_after/before; ledger: player, kind, account, currency, "
    "created_after/before. An invalid filter answers 400 `invalid_filter`."
)


class ExportView(APIView):
    permission_classes = [StaffRole]
    content_negotiation_class = FirstRenderer

    @extend_schema(
        operation_id="exports_download",
        summary="Export players, rewards, decisions or the ledger (CSV or XLSX)",
        description=FILTERS_NOTE,
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(EXPORT_KINDS)),
            OpenApiParameter("format", str, enum=list(FORMATS), default="csv"),
        ],
        responses={
            (200, FORMATS["csv"]): OpenApiResponse(OpenApiTypes.BINARY, "CSV, every field quoted"),
            (200, FORMATS["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY, "XLSX workbook"),
            400: OpenApiResponse(description="invalid_filter or invalid_format"),
            403: OpenApiResponse(description="not a staff role"),
            404: OpenApiResponse(description="unknown_export"),
        },
    )
    def get(self, request, kind: str):
        params = request.query_params.copy()
        file_format = params.pop("format", ["csv"])[-1]
        queryset = export_filtered(kind=export_kind(kind), params=params, request=request)
        return export_response(
            name=kind, queryset=queryset, user=request.user, file_format=file_format
        )
