"""API routes of the webhooks app, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from webhooks.api import DeliveryViewSet, EndpointViewSet

router = SimpleRouter()
router.register("webhooks/endpoints", EndpointViewSet, basename="webhook-endpoint")
router.register("webhooks/deliveries", DeliveryViewSet, basename="webhook-delivery")
urlpatterns = router.urls
