from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dangol.core.tenancy import ShopScopedModel


class BusinessCategory(models.TextChoices):
    CAFE = "cafe", _("Café")
    RESTAURANT = "restaurant", _("Restaurant")
    BAKERY = "bakery", _("Bakery")
    SALON = "salon", _("Salon")
    FITNESS = "fitness", _("Fitness / Pilates")
    RETAIL = "retail", _("Retail")
    ONLINE = "online", _("Online store")
    OTHER = "other", _("Other")


class Shop(models.Model):
    """The tenant: one business, possibly with several stores."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    category = models.CharField(
        _("business category"), max_length=20, choices=BusinessCategory.choices
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    optout_080 = models.CharField(_("080 opt-out number"), max_length=20, blank=True)
    sender_numbers = models.JSONField(_("registered sender numbers"), default=list, blank=True)
    # The sender identity e-mail ads must carry (정보통신망법 시행령 별표 6).
    address = models.CharField(_("business address"), max_length=200, blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")

    def __str__(self) -> str:
        return self.name


class Store(ShopScopedModel):
    """A location of a shop."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="store_unique_code_per_shop")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    STAFF = "staff", _("Staff")


class Membership(ShopScopedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("Restrict this member to one store."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["shop", "user"], name="membership_unique_user_per_shop")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop_id} ({self.role})"


class ApiScope(models.TextChoices):
    PURCHASES_WRITE = "purchases:write", _("Send purchases, refunds and cancellations")
    CUSTOMERS_WRITE = "customers:write", _("Register customers and consent")
    CUSTOMERS_READ = "customers:read", _("Look up a customer's points, stamps and coupons")
    PRODUCTS_WRITE = "products:write", _("Send the product list")
    COUPONS_REDEEM = "coupons:redeem", _("Redeem coupons")


class ApiKey(ShopScopedModel):
    """A key a store's POS (or another system) uses for the REST API.

    Only a SHA-256 hash of the key is kept; the key itself is shown once when it is created.
    ``prefix`` (the first characters) stays in clear so that owners can tell keys apart.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=16)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [
            models.UniqueConstraint(fields=["shop", "key_hash"], name="apikey_unique_hash_per_shop")
        ]
        indexes = [models.Index(fields=["key_hash"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
