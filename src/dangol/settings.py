"""Django settings, read from the environment (DANGOL_*, DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from dangol.core.config import (
    ConfigError,
    blind_index_keys,
    data_dir,
    env,
    env_bool,
    field_keys,
    secret_key,
)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()

SECRET_KEY = secret_key(DATA_DIR)
DANGOL_FIELD_KEYS = field_keys(DATA_DIR)
# The first key of each list writes; the others still read while `dangol keys rotate` runs.
DANGOL_BLIND_INDEX_KEYS = blind_index_keys(DATA_DIR)

DEBUG = env_bool("DANGOL_DEBUG", False)
ALLOWED_HOSTS = (env("DANGOL_ALLOWED_HOSTS", "127.0.0.1,localhost") or "").split(",")
# Where customers reach this installation: unsubscribe links in messages start with it.
PUBLIC_URL = (env("DANGOL_PUBLIC_URL", "http://127.0.0.1:8000") or "").rstrip("/")
CSRF_TRUSTED_ORIGINS = [o for o in (env("DANGOL_CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "dangol.core",
    "dangol.shops",
    "dangol.audit",
    "dangol.customers",
    "dangol.sales",
    "dangol.scoring",
    "dangol.segments",
    "dangol.messaging",
    "dangol.loyalty",
    "dangol.automations",
    "dangol.imports",
    "dangol.privacy",
    "dangol.integrations",
    "dangol.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "dangol.shops.middleware.ShopScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dangol.core.middleware.IdleTimeoutMiddleware",
    "dangol.core.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dangol.core.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "dangol.urls"
WSGI_APPLICATION = "dangol.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dangol.web.context.shop",
            ],
        },
    },
]


def _database() -> dict:
    url = env("DATABASE_URL")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "dangol.sqlite3"),
            "OPTIONS": {
                # WAL lets the web server read while the worker writes; IMMEDIATE avoids
                # "database is locked" upgrades from read to write inside a transaction.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
            # Tests run on a real file, not the in-memory database, like a shop's laptop.
            "TEST": {"NAME": str(DATA_DIR / "test-dangol.sqlite3")},
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except (ValueError, KeyError) as exc:
        raise ConfigError(
            f"DATABASE_URL을 해석할 수 없습니다: {exc}",
            f"DATABASE_URL cannot be parsed: {exc}",
        ) from exc
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise ConfigError(
            "DATABASE_URL은 postgres:// 주소여야 합니다 (기본값은 내장 SQLite).",
            "DATABASE_URL must be a postgres:// URL (the default is the embedded SQLite).",
        )
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve static files straight from the installed apps: no collectstatic step for the demo.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# An absolute cap; inactivity logs out much sooner (IdleTimeoutMiddleware, ADR 0003).
SESSION_COOKIE_AGE = 60 * 60 * 12
DANGOL_IDLE_MINUTES = int(env("DANGOL_IDLE_MINUTES", "30") or "30")
# Requests per second one POS API key may make (dangol.api.auth); raised for load tests.
DANGOL_API_RATE_PER_SECOND = int(env("DANGOL_API_RATE_PER_SECOND", "20") or "20")
# DANGOL_HTTPS: served behind a TLS-terminating proxy that sets X-Forwarded-Proto.
DANGOL_HTTPS = env_bool("DANGOL_HTTPS", False)
SESSION_COOKIE_SECURE = env_bool("DANGOL_SECURE_COOKIES", DANGOL_HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# htmx sends the token from the page (hx-headers), so scripts never need the cookie.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
OTP_TOTP_ISSUER = "Dangol"
if DANGOL_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DANGOL_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("DANGOL_HSTS_SECONDS", str(60 * 60 * 24 * 365)) or "0")

REDIS_URL = env("DANGOL_REDIS_URL")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "dangol",
        "url": REDIS_URL,
        "immediate": False,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "dangol",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": env_bool("DANGOL_HUEY_IMMEDIATE", False),
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DANGOL_LOG_LEVEL", "WARNING")},
    # Exports and other access-log events are also written as log lines, whatever the level.
    "loggers": {"dangol.audit": {"level": "INFO"}},
}
