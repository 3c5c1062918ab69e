from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import health

urlpatterns = [
    path("", include("incidents.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("integrations/", include("incidents.integrations.alertmanager.urls")),
    path("notifications/", include("incidents.notifications.urls")),
    path("oncall/", include("incidents.oncall.urls")),
    path("escalation/", include("incidents.escalation.urls")),
    path("api/v1/", include("incidents.api.urls")),
    path("api/v1/", include("runbooks.api")),
    path("runbooks/", include("runbooks.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("hooks/", include("incidents.integrations.alertmanager.webhook_urls")),
    path("hooks/slack/", include("incidents.integrations.slack.urls")),
    path("hooks/", include("incidents.integrations.pagerduty.urls")),
    path("health", health.health, name="health"),
    path("metrics", health.metrics_view, name="metrics"),
]

handler404 = "opsportal.errors.not_found"
handler500 = "opsportal.errors.server_error"
