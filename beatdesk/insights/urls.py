from django.urls import path

from . import views

app_name = "insights"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("export.csv", views.export_csv, name="csv"),
    path("report.pdf", views.export_pdf, name="pdf"),
    path("reports/<int:leadership_report_id>/", views.stored_report, name="report"),
]
