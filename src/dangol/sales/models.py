from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dangol.core.tenancy import ShopScopedModel


class Product(ShopScopedModel):
    sku = models.CharField(_("SKU"), max_length=60)
    name = models.CharField(_("name"), max_length=120)
    category = models.CharField(_("category"), max_length=60, blank=True)
    price = models.PositiveIntegerField(_("price (KRW)"))
    unit_cost = models.PositiveIntegerField(_("unit cost (KRW)"), default=0)
    active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="product_unique_sku_per_shop")
        ]

    def __str__(self) -> str:
        return self.name


class PurchaseSource(models.TextChoices):
    POS = "pos", _("POS")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    TABLET = "tablet", _("Check-in tablet")
    STAFF = "staff", _("Staff")
    DELIVERY_APP = "delivery_app", _("Delivery app")
    DEMO = "demo", _("Demo data")


class PurchaseStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    CANCELLED = "cancelled", _("Cancelled")


class Purchase(ShopScopedModel):
    """One sale. Money is integer KRW; `customer` is empty for anonymous walk-in sales."""

    store = models.ForeignKey("shops.Store", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="purchases",
    )
    source = models.CharField(_("source"), max_length=20, choices=PurchaseSource.choices)
    external_id = models.CharField(_("external id"), max_length=100)
    occurred_at = models.DateTimeField(_("time of sale"))
    total = models.IntegerField(_("total (KRW)"))
    discount = models.IntegerField(_("discount (KRW)"), default=0)
    status = models.CharField(
        _("status"), max_length=20, choices=PurchaseStatus.choices, default=PurchaseStatus.PAID
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "source", "external_id"], name="purchase_unique_external_id"
            ),
            models.CheckConstraint(
                condition=models.Q(discount__gte=0), name="purchase_discount_gte_0"
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "occurred_at"]),
            models.Index(fields=["customer", "occurred_at"]),
            # Covers "paid visits of the last N days per customer" (segments): the window is
            # one range of it and the customer is read from it, never from the wide row.
            models.Index(fields=["shop", "status", "occurred_at", "customer"]),
        ]


class PurchaseLine(ShopScopedModel):
    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("item"), max_length=120)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.IntegerField(_("unit price (KRW)"))
    amount = models.IntegerField(_("amount (KRW)"))

    class Meta:
        verbose_name = _("purchase line")
        verbose_name_plural = _("purchase lines")


# How many recent purchase days ``CustomerStats`` keeps per customer (``recent_day_2`` ..).
RECENT_DAYS = 8


class CustomerStats(ShopScopedModel):
    """Totals of one customer's paid purchases, derived by ``customer_stats_rebuild``.

    All-time segment conditions (last and first visit, totals, average ticket, rank, months)
    read one indexed row per customer instead of grouping every purchase of the shop.
    Customers without a paid purchase have no row.
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    visits = models.PositiveIntegerField(_("visits"))
    total_spend = models.BigIntegerField(_("total spend (KRW)"))
    avg_ticket = models.FloatField(_("average ticket (KRW)"))
    first_purchase_at = models.DateTimeField(_("first purchase"))
    last_purchase_at = models.DateTimeField(_("last purchase"))
    # Bit m-1 is set when a paid purchase fell in calendar month m (Seoul time).
    months_mask = models.PositiveIntegerField(default=0)
    # recent_day_k: the local (Seoul) date of the k-th most recent paid purchase, k = 2..RECENT
    # (None: fewer purchases). "At least k visits in the last N days" is then one comparison
    # with the window's first day instead of counting every purchase of the window.
    recent_day_2 = models.DateField(null=True)
    recent_day_3 = models.DateField(null=True)
    recent_day_4 = models.DateField(null=True)
    recent_day_5 = models.DateField(null=True)
    recent_day_6 = models.DateField(null=True)
    recent_day_7 = models.DateField(null=True)
    recent_day_8 = models.DateField(null=True)

    class Meta:
        verbose_name = _("customer totals")
        verbose_name_plural = _("customer totals")
        # Each ends with the customer so that a segment condition is answered from the index
        # alone (the customer id is not the row id on SQLite, so it is not there for free).
        indexes = [
            models.Index(fields=["shop", "last_purchase_at", "customer"]),
            models.Index(fields=["shop", "first_purchase_at", "customer"]),
            models.Index(fields=["shop", "visits", "customer"]),
            models.Index(fields=["shop", "total_spend", "customer"]),
            models.Index(fields=["shop", "avg_ticket", "customer"]),
            models.Index(fields=["shop", "months_mask", "customer"]),
        ]
