from django.urls import path

from . import views

app_name = "intelligence"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("from/<int:conversation_id>/", views.raise_from_conversation, name="raise"),
    path("r/<int:report_id>/", views.report_detail, name="report"),
    path("r/<int:report_id>/take/", views.report_take, name="take"),
    path("r/<int:report_id>/file/", views.report_file, name="file"),
    path("r/<int:report_id>/export/", views.report_export, name="export"),
    path("exports/<int:export_id>/", views.export_download, name="download"),
]
