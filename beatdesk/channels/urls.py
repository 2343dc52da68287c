from django.urls import path

from . import views

app_name = "channels"
urlpatterns = [
    path("", views.health, name="health"),
    path("connect/", views.connect, name="connect"),
    path("connect/replay/", views.replay_connect, name="replay_connect"),
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("accounts/<int:account_id>/", views.account_detail, name="account"),
    path("accounts/<int:account_id>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:account_id>/reconnect/", views.account_reconnect, name="account_reconnect"),
    path(
        "accounts/<int:account_id>/disconnect/", views.account_disconnect, name="account_disconnect"
    ),
    path("posts/", views.delivery_list, name="deliveries"),
    path("posts/<int:delivery_id>/retry/", views.delivery_retry, name="delivery_retry"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    # Public: a platform (Instagram) fetches a post's image through a signed link.
    path("media/<str:signed>/", views.signed_media, name="signed_media"),
]
