from django.contrib.auth import views as auth_views
from django.urls import path

from dangol.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("customers/", views.customers, name="customers"),
    path("customers/new/", views.customer_new, name="customer_new"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer"),
    path("<slug:name>/", views.section, name="section"),
]
