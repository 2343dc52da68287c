from django.urls import path

from . import views

app_name = "inbox"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("live/", views.live, name="live"),
    path("bulk/", views.bulk, name="bulk"),
    path("settings/", views.inbox_settings, name="settings"),
    path("settings/hours/<int:team_id>/", views.staffed_hours, name="staffed_hours"),
    path("c/<int:conversation_id>/", views.conversation_detail, name="conversation"),
    path(
        "c/<int:conversation_id>/acknowledge/",
        views.conversation_acknowledge,
        name="acknowledge",
    ),
    path("c/<int:conversation_id>/reply/", views.conversation_reply, name="reply"),
    path("c/<int:conversation_id>/close/", views.conversation_close, name="close"),
    path("c/<int:conversation_id>/reopen/", views.conversation_reopen, name="reopen"),
    path("c/<int:conversation_id>/reroute/", views.conversation_reroute, name="reroute"),
    path("c/<int:conversation_id>/take/", views.conversation_take, name="take"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact"),
]
