from django.urls import path

from . import views

app_name = "publishing"
urlpatterns = [
    path("", views.posts, name="posts"),
    path("new/", views.compose, name="compose"),
    path("screen/", views.screen_preview, name="screen"),
    path("settings/", views.publishing_settings_view, name="settings"),
    path("p/<int:post_id>/", views.post_detail, name="post"),
    path("p/<int:post_id>/edit/", views.post_edit, name="edit"),
    path("p/<int:post_id>/approve/", views.post_approve, name="approve"),
    path("p/<int:post_id>/reject/", views.post_reject, name="reject"),
    path("p/<int:post_id>/withdraw/", views.post_withdraw, name="withdraw"),
    path("p/<int:post_id>/misuse/", views.post_misuse, name="misuse"),
    path("p/<int:post_id>/found/", views.post_found, name="found"),
    path("follow-ups/<int:follow_up_id>/update/", views.follow_up_update, name="follow_up_update"),
    path("follow-ups/<int:follow_up_id>/remove/", views.follow_up_remove, name="follow_up_remove"),
]
