from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dangol.core.fields import EncryptedDateField, EncryptedTextField
from dangol.core.tenancy import ShopScopedModel


class BirthdayCalendar(models.TextChoices):
    SOLAR = "solar", _("Solar (양력)")
    LUNAR = "lunar", _("Lunar (음력)")


class Gender(models.TextChoices):
    UNKNOWN = "", _("Not given")
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")


class CreatedVia(models.TextChoices):
    IMPORT = "import", _("Import")
    API = "api", _("API")
    TABLET = "tablet", _("Check-in tablet")
    STAFF = "staff", _("Staff")
    DEMO = "demo", _("Demo data")


class Customer(ShopScopedModel):
    """A person the shop knows. Name, phone, e-mail and birthday are encrypted at rest."""

    name = EncryptedTextField(_("name"))
    phone = EncryptedTextField(_("phone"))
    email = EncryptedTextField(_("e-mail"))
    birthday = EncryptedDateField(_("birthday"), null=True)
    # Keyed hashes for exact look-ups; the plaintext never reaches the database.
    phone_bidx = models.CharField(max_length=64, blank=True, db_index=True)
    email_bidx = models.CharField(max_length=64, blank=True, db_index=True)
    # Short keyed hashes of name n-grams and the phone's last 4 digits, for search.
    search_tokens = models.TextField(blank=True, default="")
    birthday_calendar = models.CharField(
        _("birthday calendar"),
        max_length=5,
        choices=BirthdayCalendar.choices,
        default=BirthdayCalendar.SOLAR,
    )
    birthday_leap_month = models.BooleanField(_("leap month"), default=False)
    # Month and day (MMDD) of the birthday in its own calendar, in clear: birthday segments and
    # greetings are set-based queries. The year, which identifies a person far more, stays
    # encrypted in `birthday` (docs/adr/0002-birthday-month-day.md).
    birthday_md = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    created_via = models.CharField(_("created via"), max_length=10, choices=CreatedVia.choices)
    home_store = models.ForeignKey(
        "shops.Store", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_from"
    )
    # A default, not auto_now_add: imports keep the date the shop first met the customer.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["shop", "created_at"]),
            # The shop's current customers as a narrow list: every segment starts from it, and
            # PostgreSQL reads it from this index instead of scanning the wide rows.
            models.Index(
                fields=["shop", "id"],
                condition=models.Q(merged_into__isnull=True),
                name="customer_live_per_shop",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class IdentityKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    CARD_TOKEN = "card_token", _("Card token")
    MEMBER_NO = "member_no", _("Member number")
    DELIVERY_APP = "delivery_app", _("Delivery app")


class CustomerIdentity(ShopScopedModel):
    """A key by which the shop recognises a customer; unique per shop and kind."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value_bidx = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer identity")
        verbose_name_plural = _("customer identities")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "kind", "value_bidx"], name="identity_unique_per_shop_kind"
            )
        ]


class ConsentKind(models.TextChoices):
    PIPA_COLLECTION = "pipa_collection", _("Collection and use of personal data")
    PIPA_MARKETING = "pipa_marketing", _("Use of personal data for marketing")
    AD_SMS = "ad_sms", _("Advertising by SMS")
    AD_KAKAO = "ad_kakao", _("Advertising by KakaoTalk")
    AD_EMAIL = "ad_email", _("Advertising by e-mail")
    AD_PUSH = "ad_push", _("Advertising by push")
    AD_NIGHT = "ad_night", _("Advertising at night (21:00–08:00)")


class ConsentSource(models.TextChoices):
    TABLET = "tablet", _("Check-in tablet")
    STAFF = "staff", _("Staff")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    WEB = "web", _("Web form")
    OPTOUT_080 = "080", _("080 opt-out")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    MERGE = "merge", _("Merge of two customers")


class ConsentEvent(ShopScopedModel):
    """Append-only evidence of one consent change (compliance rules 7–8).

    Current consent is derived from the latest event per kind; rows are never edited.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    wording_version = models.CharField(max_length=40, blank=True)
    evidence = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    device = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        indexes = [models.Index(fields=["shop", "customer", "kind", "occurred_at"])]


class CustomerMerge(ShopScopedModel):
    """One merge of two customers of a shop, with what it moved, so that it can be undone.

    ``moved`` maps "app.Model.field" to the ids of the rows re-pointed from ``merged`` to
    ``kept``; ``kept_back`` the rows left on ``merged`` because moving them would break a unique
    constraint; ``consent_events`` the refusals the merge wrote for ``kept`` (they stay after an
    undo: an opt-out is never undone).
    """

    kept = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    moved = models.JSONField(default=dict)
    kept_back = models.JSONField(default=dict)
    consent_events = models.JSONField(default=list)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "merged"],
                condition=models.Q(undone_at__isnull=True),
                name="customer_merge_in_force_once",
            )
        ]
        indexes = [models.Index(fields=["shop", "merged_at"])]


class MergeDismissal(ShopScopedModel):
    """The owner said two customers are not the same person: never suggest the pair again.

    ``first`` is the customer with the lower id, so a pair has one row whatever the order.
    """

    first = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("not the same person")
        verbose_name_plural = _("not the same person")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "first", "second"], name="merge_dismissal_once_per_pair"
            )
        ]
