from django.contrib.auth import views as auth_views
from django.urls import path

from dangol.web import (
    audit_views,
    checkin_urls,
    import_urls,
    integration_urls,
    loyalty_urls,
    merge_urls,
    outbox_views,
    privacy_urls,
    public_views,
    security_views,
    segment_export_views,
    template_views,
    views,
)
from dangol.web import segments_views as seg

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("customers/", views.customers, name="customers"),
    path("customers/new/", views.customer_new, name="customer_new"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer"),
    path("segments/", seg.segments, name="segments"),
    path("segments/refresh/", seg.segments_refresh, name="segments_refresh"),
    path("segments/new/", seg.segment_new, name="segment_new"),
    path("segments/preview/", seg.segment_preview_view, name="segment_preview"),
    path("segments/<int:segment_id>/", seg.segment_detail, name="segment"),
    path("segments/<int:segment_id>/edit/", seg.segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/copy/", seg.segment_copy_view, name="segment_copy"),
    path("segments/<int:segment_id>/archive/", seg.segment_archive_view, name="segment_archive"),
    path(
        "segments/<int:segment_id>/export/",
        segment_export_views.segment_export,
        name="segment_export",
    ),
    path(
        "segments/<int:segment_id>/why/<int:customer_id>/",
        seg.segment_why_view,
        name="segment_why",
    ),
    path("messages/", outbox_views.outbox, name="outbox"),
    path("settings/access-log/", audit_views.audit_review, name="audit_review"),
    path("messages/templates/", template_views.message_templates, name="message_templates"),
    path("messages/templates/preview/", template_views.message_preview, name="message_preview"),
    path("messages/send/", template_views.message_send, name="message_send"),
    path("hooks/<slug:provider>/<slug:slug>/", public_views.provider_webhook, name="webhook"),
    path(
        "hooks/<slug:provider>/<slug:slug>/<str:token>/",
        public_views.provider_webhook,
        name="webhook_token",
    ),
    path("u/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
    path("settings/two-factor/", security_views.two_factor_settings, name="two_factor"),
    path("login/verify/", security_views.two_factor_verify, name="two_factor_verify"),
    path("settings/privacy-policy/", security_views.privacy_policy, name="privacy_policy"),
    *merge_urls.urlpatterns,
    *import_urls.urlpatterns,
    *loyalty_urls.urlpatterns,
    *checkin_urls.urlpatterns,
    *privacy_urls.urlpatterns,
    *integration_urls.urlpatterns,
    path("<slug:name>/", views.section, name="section"),
]
