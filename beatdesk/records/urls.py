from django.urls import path

from . import views

app_name = "records"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("rules/", views.save_rule, name="rule"),
    path("dispose/", views.dispose_now, name="dispose"),
    path("holds/<int:hold_id>/release/", views.hold_release, name="release"),
    path("contacts/<int:contact_id>/", views.contact_records, name="contact"),
    path("contacts/<int:contact_id>/hold/", views.contact_hold, name="contact_hold"),
    path("contacts/<int:contact_id>/restrict/", views.contact_restrict, name="restrict"),
    path(
        "contacts/<int:contact_id>/subject-access/",
        views.contact_subject_access,
        name="subject_access",
    ),
    path("reports/<int:report_id>/hold/", views.report_hold, name="report_hold"),
    path("reports/<int:report_id>/retain/", views.report_retain, name="retain"),
    path("reports/<int:report_id>/let-go/", views.report_let_go, name="let_go"),
]
