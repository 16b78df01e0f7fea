"""API routes of the safety app, mounted under /api/v1/."""

from django.urls import path

from safety import api

urlpatterns = [
    path("fraud/flags/", api.FraudFlagListView.as_view(), name="fraud-flags"),
    path(
        "fraud/flags/<int:flag_id>/resolve/",
        api.FraudFlagResolveView.as_view(),
        name="fraud-flag-resolve",
    ),
]
