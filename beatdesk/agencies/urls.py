from django.urls import path

from . import views

app_name = "agencies"
urlpatterns = [
    path("areas/", views.area_list, name="areas"),
    path("areas/new/", views.area_create, name="area_create"),
    path("areas/<int:area_id>/", views.area_detail, name="area"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:team_id>/", views.team_detail, name="team"),
    path("teams/<int:team_id>/edit/", views.team_edit, name="team_edit"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:staff_id>/", views.staff_detail, name="staff_member"),
    path("staff/<int:staff_id>/edit/", views.staff_edit, name="staff_edit"),
    path("staff/<int:staff_id>/disable/", views.staff_disable, name="staff_disable"),
    path("staff/<int:staff_id>/enable/", views.staff_enable, name="staff_enable"),
    path("staff/<int:staff_id>/reset-mfa/", views.staff_reset_mfa, name="staff_reset_mfa"),
]
