from django.urls import include, path

urlpatterns = [
    path("", include("beatdesk.web.urls")),
    path("accounts/", include("beatdesk.accounts.urls")),
    path("agency/", include("beatdesk.agencies.urls")),
    path("audit/", include("beatdesk.audit.urls")),
    path("channels/", include("beatdesk.channels.urls")),
    path("inbox/", include("beatdesk.inbox.urls")),
    path("publishing/", include("beatdesk.publishing.urls")),
    path("intelligence/", include("beatdesk.intelligence.urls")),
    path("records/", include("beatdesk.records.urls")),
    path("insights/", include("beatdesk.insights.urls")),
]
