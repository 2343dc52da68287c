from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.mfa_view, name="mfa"),
    path("reauth/", views.reauth_view, name="reauth"),
    path("logout/", views.logout_view, name="logout"),
]
