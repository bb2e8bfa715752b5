"""Loyalty: an append-only points ledger with lots, stamp cards, coupons, tiers and referrals.

Nothing here stores a balance. A points balance is the sum of the open lots (credits minus what
debits took from them); a stamp count is the sum of stamp entries; a coupon's state moves once,
from issued to redeemed or void, by a conditional update.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangol.core.tenancy import ShopScopedModel


class PointsPolicy(ShopScopedModel):
    """One version of a shop's earn rules. Never edited: a change is a new version, and a lot
    keeps the version (and so the validity) it was earned under."""

    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateTimeField(_("effective from"))
    # Basis points of the paid amount: 100 = 1 %.
    earn_rate_bp = models.PositiveIntegerField(_("earn rate (basis points)"), default=0)
    points_per_visit = models.PositiveIntegerField(_("points per visit"), default=0)
    # Purchases below this total earn nothing (KRW).
    min_amount = models.PositiveIntegerField(_("minimum amount (KRW)"), default=0)
    # [{"category": "커피", "points": 100} | {"product_id": 3, "points": 50}], per unit.
    item_rules = models.JSONField(_("item rules"), default=list, blank=True)
    # [{"name", "multiplier_pct", "weekdays": [0..6], "start_hour", "end_hour",
    #   "starts_on", "ends_on"}]: the largest matching multiplier applies (Seoul time).
    promotions = models.JSONField(_("promotions"), default=list, blank=True)
    validity_months = models.PositiveSmallIntegerField(_("validity (months)"), default=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("points policy")
        verbose_name_plural = _("points policies")
        constraints = [
            models.UniqueConstraint(fields=["shop", "version"], name="points_policy_version")
        ]
        indexes = [models.Index(fields=["shop", "effective_from"])]


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    BONUS = "bonus", _("Bonus")
    REDEEM = "redeem", _("Redeemed")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjusted")
    REFUND = "refund", _("Refund reversal")


CREDIT_KINDS = (EntryKind.EARN, EntryKind.BONUS)
DEBIT_KINDS = (EntryKind.REDEEM, EntryKind.EXPIRE, EntryKind.REFUND)


class PointsEntry(ShopScopedModel):
    """One line of the ledger. A credit (points > 0) is a lot with an expiry; a debit
    (points < 0) takes from lots through allocations, oldest expiry first."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="points_entries"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    points = models.IntegerField(_("points"))
    occurred_at = models.DateTimeField(_("time"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    policy = models.ForeignKey(
        PointsPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    purchase = models.ForeignKey(
        "sales.Purchase", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "purchase"],
                condition=models.Q(kind="earn"),
                name="points_earn_once_per_purchase",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind__in=["earn", "bonus"], points__gt=0, expires_at__isnull=False)
                    | models.Q(kind__in=["redeem", "expire", "refund"], points__lt=0)
                    | (models.Q(kind="adjust") & ~models.Q(points=0))
                ),
                name="points_entry_sign_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "customer", "occurred_at"]),
            models.Index(fields=["shop", "expires_at"]),
            models.Index(fields=["shop", "customer", "points"]),
        ]


class PointsAllocation(ShopScopedModel):
    """How many points a debit took from one lot. Written with the debit, never changed."""

    debit = models.ForeignKey(PointsEntry, on_delete=models.CASCADE, related_name="allocations")
    lot = models.ForeignKey(PointsEntry, on_delete=models.CASCADE, related_name="consumed_by")
    points = models.PositiveIntegerField(_("points"))

    class Meta:
        verbose_name = _("points allocation")
        verbose_name_plural = _("points allocations")
        constraints = [
            models.UniqueConstraint(fields=["shop", "debit", "lot"], name="points_alloc_once"),
            models.CheckConstraint(condition=models.Q(points__gt=0), name="points_alloc_gt_0"),
        ]


class CouponKind(models.TextChoices):
    PERCENT = "percent", _("Percent off")
    AMOUNT = "amount", _("Amount off")
    FREE_ITEM = "free_item", _("Free item")
    SIZE_UP = "size_up", _("Size up")
    FREE_SHIPPING = "free_shipping", _("Free shipping")


# Relative validity an owner can pick: the same day, or so many days after the issue day.
RELATIVE_DAYS = (0, 3, 7, 30, 90, 365)


class CouponTemplate(ShopScopedModel):
    """What a coupon gives and when it is valid; coupons are issued from it."""

    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=20, choices=CouponKind.choices)
    # Percent (1-100) for percent coupons, KRW for the others (the item's price is used for a
    # free item when this is 0).
    value = models.PositiveIntegerField(_("value"), default=0)
    max_discount = models.PositiveIntegerField(_("maximum discount (KRW)"), default=0)
    product = models.ForeignKey(
        "sales.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    min_spend = models.PositiveIntegerField(_("minimum spend (KRW)"), default=0)
    # Scope: when either is set, the basket must hold a listed product or category.
    scope_product_ids = models.JSONField(default=list, blank=True)
    scope_categories = models.JSONField(default=list, blank=True)
    # Relative validity (days after the issue day; 0 = the same day) or an absolute window.
    valid_days = models.PositiveSmallIntegerField(_("valid for (days)"), null=True, blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    per_customer_limit = models.PositiveSmallIntegerField(_("limit per customer"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="coupon_template_name")
        ]

    def __str__(self) -> str:
        return self.name


class CouponStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    REDEEMED = "redeemed", _("Redeemed")
    VOID = "void", _("Void")


class CouponSource(models.TextChoices):
    MANUAL = "manual", _("Staff")
    STAMP = "stamp", _("Stamp card")
    TIER = "tier", _("Tier perk")
    REFERRAL = "referral", _("Referral")
    AUTOMATION = "automation", _("Automation")
    DEMO = "demo", _("Demo data")


class Coupon(ShopScopedModel):
    """One issued coupon. Its status moves once, by a conditional update, never back."""

    template = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="coupons")
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="coupons",
    )
    code = models.CharField(_("code"), max_length=16)
    status = models.CharField(
        _("status"), max_length=10, choices=CouponStatus.choices, default=CouponStatus.ISSUED
    )
    source = models.CharField(_("source"), max_length=12, choices=CouponSource.choices)
    # What issued it (a stamp card completion, an automation step): one coupon per reference.
    source_ref = models.CharField(max_length=80, blank=True)
    issued_at = models.DateTimeField(_("issued"))
    valid_from = models.DateTimeField(_("valid from"))
    expires_at = models.DateTimeField(_("expires"))
    redeemed_at = models.DateTimeField(_("redeemed"), null=True, blank=True)
    redeemed_store = models.ForeignKey(
        "shops.Store", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    redeemed_purchase = models.ForeignKey(
        "sales.Purchase", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    redeemed_amount = models.PositiveIntegerField(_("basket (KRW)"), null=True, blank=True)
    # For ROI: what the customer saw (face value) and what the shop paid (product cost), KRW.
    face_value = models.PositiveIntegerField(_("face value (KRW)"), default=0)
    product_cost = models.PositiveIntegerField(_("product cost (KRW)"), default=0)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="coupon_unique_code"),
            models.UniqueConstraint(
                fields=["shop", "source", "source_ref"],
                condition=~models.Q(source_ref=""),
                name="coupon_once_per_source_ref",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "customer", "status"]),
            models.Index(fields=["shop", "template", "status"]),
            models.Index(fields=["code"]),
        ]


class StampMode(models.TextChoices):
    VISIT = "visit", _("One per visit")
    ITEM = "item", _("One per item")


class StampCard(ShopScopedModel):
    """A stamp card programme: N stamps give the reward coupon."""

    name = models.CharField(_("name"), max_length=80)
    stamps_required = models.PositiveSmallIntegerField(_("stamps for a reward"))
    mode = models.CharField(_("stamp per"), max_length=5, choices=StampMode.choices)
    # Per item: which items count (none listed: every item). Per visit: the minimum amount.
    product_ids = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    min_amount = models.PositiveIntegerField(_("minimum amount (KRW)"), default=0)
    reward = models.ForeignKey(CouponTemplate, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("stamp card")
        verbose_name_plural = _("stamp cards")
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="stamp_card_name")]

    def __str__(self) -> str:
        return self.name


class StampKind(models.TextChoices):
    EARN = "earn", _("Stamped")
    MANUAL = "manual", _("Stamped by staff")
    REVERSE = "reverse", _("Refund reversal")
    COMPLETE = "complete", _("Card completed")


class StampEntry(ShopScopedModel):
    """Append-only: the stamps on a card are the sum of its entries."""

    card = models.ForeignKey(StampCard, on_delete=models.CASCADE, related_name="entries")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="stamp_entries"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=StampKind.choices)
    stamps = models.IntegerField(_("stamps"))
    occurred_at = models.DateTimeField(_("time"))
    purchase = models.ForeignKey(
        "sales.Purchase", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    coupon = models.ForeignKey(
        Coupon, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Idempotency key of a tap on the tablet or the staff screen: a double tap stamps once.
    key = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("stamp entry")
        verbose_name_plural = _("stamp entries")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "card", "purchase", "kind"],
                condition=models.Q(kind__in=["earn", "reverse"]),
                name="stamp_once_per_purchase",
            ),
            models.UniqueConstraint(
                fields=["shop", "card", "key"], condition=~models.Q(key=""), name="stamp_tap_once"
            ),
        ]
        indexes = [models.Index(fields=["shop", "customer", "card"])]


class TierMeasure(models.TextChoices):
    SPEND = "spend", _("Spend")
    VISITS = "visits", _("Visits")


class TierProgram(ShopScopedModel):
    """How a shop's tiers are earned: spend or visits over a rolling window, with a grace
    period before a downgrade."""

    measure = models.CharField(_("measured by"), max_length=10, choices=TierMeasure.choices)
    window_days = models.PositiveSmallIntegerField(_("window (days)"), default=365)
    grace_days = models.PositiveSmallIntegerField(_("grace period (days)"), default=30)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tier programme")
        verbose_name_plural = _("tier programmes")
        constraints = [models.UniqueConstraint(fields=["shop"], name="tier_program_per_shop")]


class Tier(ShopScopedModel):
    name = models.CharField(_("name"), max_length=40)
    level = models.PositiveSmallIntegerField(_("level"))
    # KRW of spend or number of visits in the window.
    threshold = models.PositiveBigIntegerField(_("threshold"))
    earn_multiplier_pct = models.PositiveSmallIntegerField(_("points multiplier (%)"), default=100)
    perk = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        constraints = [
            models.UniqueConstraint(fields=["shop", "level"], name="tier_level_per_shop"),
            models.UniqueConstraint(fields=["shop", "name"], name="tier_name_per_shop"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerTier(ShopScopedModel):
    """A customer's current tier (no row: no tier). History is in ``TierChange``."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField(_("since"))
    # When the customer first fell below the tier's threshold; downgraded after the grace.
    below_since = models.DateTimeField(_("below threshold since"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "customer"], name="customer_tier_once")
        ]


class TierChange(ShopScopedModel):
    """Append-only history of upgrades and downgrades (level 0: no tier)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    from_level = models.PositiveSmallIntegerField()
    to_level = models.PositiveSmallIntegerField()
    measured = models.BigIntegerField(_("measured value"))
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["shop", "customer", "at"])]


class CheckinDevice(ShopScopedModel):
    """A counter tablet bound to one store. The owner gets a one-time pairing link; pairing
    sets a long-lived signed cookie on the tablet. Only hashes of both secrets are stored."""

    store = models.ForeignKey("shops.Store", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    # sha256 of the one-time pairing secret; emptied once used.
    pair_hash = models.CharField(max_length=64, blank=True)
    pair_expires_at = models.DateTimeField(null=True, blank=True)
    # sha256 of the secret in the tablet's cookie; set when the tablet is paired.
    token_hash = models.CharField(max_length=64, blank=True)
    # Django password hash of the staff PIN that unlocks the purchase-amount field.
    staff_pin_hash = models.CharField(max_length=128, blank=True)
    paired_at = models.DateTimeField(_("paired"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("check-in tablet")
        verbose_name_plural = _("check-in tablets")
        constraints = [
            models.UniqueConstraint(fields=["shop", "store", "name"], name="checkin_device_name")
        ]

    def __str__(self) -> str:
        return self.name


class Checkin(ShopScopedModel):
    """One check-in at a tablet. The tap key makes a repeated tap (a double tap, a retry after
    a network error) return this row instead of stamping again."""

    device = models.ForeignKey(CheckinDevice, on_delete=models.PROTECT, related_name="checkins")
    store = models.ForeignKey("shops.Store", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="checkins"
    )
    key = models.CharField(max_length=64)
    occurred_at = models.DateTimeField(_("time"))
    joined = models.BooleanField(_("first visit"), default=False)
    stamps = models.PositiveSmallIntegerField(_("stamps"), default=0)
    points = models.PositiveIntegerField(_("points"), default=0)
    amount = models.PositiveIntegerField(_("amount (KRW)"), default=0)
    purchase = models.ForeignKey(
        "sales.Purchase", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints = [
            models.UniqueConstraint(fields=["shop", "device", "key"], name="checkin_tap_once")
        ]
        indexes = [models.Index(fields=["shop", "customer", "occurred_at"])]


class ReferralProgram(ShopScopedModel):
    """A shop's referral programme: what each side gets once the referee has paid for a first
    purchase (points, a coupon, or both), and how many referrals a day one referrer may make
    before the rest wait for the owner's review."""

    active = models.BooleanField(_("active"), default=True)
    referrer_points = models.PositiveIntegerField(_("points for the referrer"), default=0)
    referrer_coupon = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    referee_points = models.PositiveIntegerField(_("points for the new customer"), default=0)
    referee_coupon = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    daily_limit = models.PositiveSmallIntegerField(_("referrals a day before review"), default=5)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("referral programme")
        verbose_name_plural = _("referral programmes")
        constraints = [models.UniqueConstraint(fields=["shop"], name="referral_program_per_shop")]


class ReferralCode(ShopScopedModel):
    """A customer's personal referral code (the coupon alphabet and check character)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    code = models.CharField(_("referral code"), max_length=16)
    # Keyed hash of the device the code was handed out on (blank: unknown).
    device_bidx = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("referral code")
        verbose_name_plural = _("referral codes")
        constraints = [
            models.UniqueConstraint(fields=["shop", "customer"], name="referral_code_per_customer"),
            models.UniqueConstraint(fields=["shop", "code"], name="referral_code_unique"),
        ]


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a first purchase")
    HELD = "held", _("Held for review")
    REWARDED = "rewarded", _("Rewarded")
    REJECTED = "rejected", _("Rejected")


class Referral(ShopScopedModel):
    """One new customer brought by one referrer. The status moves by conditional updates:
    held -> pending | rejected (the owner), pending -> rewarded (once, on a first purchase)."""

    referrer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    referee = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    code = models.CharField(_("referral code"), max_length=16)
    status = models.CharField(_("status"), max_length=10, choices=ReferralStatus.choices)
    hold_reason = models.CharField(_("reason held"), max_length=40, blank=True)
    device_bidx = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("registered"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    rewarded_at = models.DateTimeField(_("rewarded"), null=True, blank=True)
    purchase = models.ForeignKey(
        "sales.Purchase", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.UniqueConstraint(fields=["shop", "referee"], name="referral_once_per_referee"),
            models.CheckConstraint(
                condition=~models.Q(referrer=models.F("referee")), name="referral_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "referrer", "created_at"]),
            models.Index(fields=["shop", "status"]),
            models.Index(fields=["shop", "device_bidx"]),
        ]
