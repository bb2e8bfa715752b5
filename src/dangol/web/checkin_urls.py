"""Pages of the counter check-in tablet and the customer's own page; included into the web
namespace by dangol.web.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from dangol.web import checkin_public_views as me
from dangol.web import checkin_views as kiosk

urlpatterns: list[URLPattern] = [
    path("settings/checkin/", kiosk.checkin_devices, name="checkin_devices"),
    path(
        "settings/checkin/<int:device_id>/revoke/",
        kiosk.checkin_device_revoke_view,
        name="checkin_device_revoke",
    ),
    path("kiosk/", kiosk.kiosk, name="kiosk"),
    path("kiosk/checkin/", kiosk.kiosk_checkin, name="kiosk_checkin"),
    path("kiosk/join/", kiosk.kiosk_join, name="kiosk_join"),
    path("kiosk/pair/<str:code>/", kiosk.checkin_pair, name="checkin_pair"),
    path("me/<str:token>/", me.customer_page, name="customer_page"),
    path("me/<str:token>/consent/", me.customer_page_consent, name="customer_page_consent"),
    path("me/<str:token>/request/", me.customer_page_request, name="customer_page_request"),
]
