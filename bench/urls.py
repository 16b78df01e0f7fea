"""The product's URLs plus `GET /bench/ping/?id=N`: the API benchmark's baseline endpoint.

A bare DRF view behind the same token authentication and role permission as the product's
API, reading one player row by primary key — what any authenticated API read costs at least.
"""

from django.http import Http404
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler404, handler500  # noqa: F401 - the product's error pages
from config.urls import urlpatterns as product_urlpatterns
from players.models import Player


class PingView(APIView):
    def get(self, request):
        row = (
            Player.objects.filter(pk=request.query_params.get("id", 0))
            .values("external_id", "segment")
            .first()
        )
        if row is None:
            raise Http404
        return Response(row)


urlpatterns = [path("bench/ping/", PingView.as_view()), *product_urlpatterns]
