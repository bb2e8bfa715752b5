"""Conditions on what and when customers buy: products or categories bought, and "only in
these months" (seasonal customers)."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from dangol.sales.models import Product, PurchaseLine, PurchaseStatus
from dangol.segments.conditions.base import Condition, Param, register, window_param
from dangol.segments.conditions.purchases import paid, stats, stats_narrow, window_words

ALL_MONTHS = (1 << 12) - 1
# Up to this many allowed months, "only in these months" lists the matching month masks
# (2**n of them).
MAX_LISTED_MONTHS = 8


class Bought(Condition):
    key, group = "bought", "products"
    ko, en = "구매한 상품", "Bought"
    params = (
        Param("products", "ids", "상품", "products", required=False),
        Param("categories", "choices", "분류", "categories", required=False),
        window_param(),
    )
    value_kind = "number"

    def _lines(self, params, ctx) -> QuerySet:
        lines = PurchaseLine.objects.for_shop(ctx.shop).filter(
            purchase__status=PurchaseStatus.PAID, purchase__customer__isnull=False
        )
        if params.get("days"):
            lines = lines.filter(purchase__occurred_at__gte=ctx.days_ago_start(params["days"]))
        what = Q(pk__in=[])
        if params.get("products"):
            what |= Q(product_id__in=params["products"])
        if params.get("categories"):
            what |= Q(product__category__in=params["categories"])
        return lines.filter(what).order_by()

    def q(self, params, ctx):
        return Q(pk__in=self._lines(params, ctx).values("purchase__customer_id"))

    def values(self, params, ctx, customer_ids):
        rows = (
            self._lines(params, ctx)
            .filter(purchase__customer_id__in=customer_ids)
            .values("purchase__customer_id")
            .annotate(n=Coalesce(Sum("quantity"), 0))
        )
        return {r["purchase__customer_id"]: r["n"] for r in rows}

    def warnings(self, params, ctx):
        wanted = set(params.get("products") or [])
        if not wanted:
            return []
        known = set(
            Product.objects.for_shop(ctx.shop).filter(pk__in=wanted).values_list("pk", flat=True)
        )
        gone = len(wanted - known)
        if not gone:
            return []
        return [
            (
                f"삭제된 상품 {gone}개는 더 이상 일치하지 않아요.",
                f"{gone} deleted product(s) no longer match anything.",
            )
        ]

    def describe(self, params):
        w_ko, w_en = window_words(params.get("days"))
        n_products = len(params.get("products") or [])
        cats = ", ".join(params.get("categories") or [])
        what_ko = " · ".join(x for x in (f"상품 {n_products}개" if n_products else "", cats) if x)
        what_en = " / ".join(
            x for x in (f"{n_products} product(s)" if n_products else "", cats) if x
        )
        return f"{w_ko}{what_ko} 구매", f"bought {what_en}{w_en}"


class OnlyMonths(Condition):
    """Every paid purchase fell in the given calendar months (local time), at least one ever."""

    key, group = "only_months", "habits"
    ko, en = "특정 달에만 방문", "Comes only in certain months"
    params = (Param("months", "choices", "달", "months", choices=[str(m) for m in range(1, 13)]),)
    value_kind = "text"

    def narrow(self, params, ctx):
        allowed = sum(1 << (int(m) - 1) for m in params["months"])
        if bin(allowed).count("1") > MAX_LISTED_MONTHS:
            return None
        # The masks with no month outside the allowed ones, listed: an indexed IN lookup
        # instead of a bitwise test of every customer's row.
        masks, sub = [0], allowed
        while sub:
            masks.append(sub)
            sub = (sub - 1) & allowed
        return stats_narrow(ctx, Q(months_mask__in=masks))

    def q(self, params, ctx):
        found = self.narrow(params, ctx)
        if found is not None:
            _, rows, q = found
            return Q(pk__in=rows.filter(q).values("customer_id"))
        allowed = sum(1 << (int(m) - 1) for m in params["months"])
        outside = F("months_mask").bitand(ALL_MONTHS & ~allowed)
        rows = stats(ctx).annotate(_outside=outside).filter(_outside=0)
        return Q(pk__in=rows.values("customer_id"))

    def values(self, params, ctx, customer_ids):
        rows = (
            paid(ctx)
            .filter(customer_id__in=customer_ids)
            .values_list("customer_id", "occurred_at__month")
            .distinct()
        )
        out: dict[int, set[int]] = {}
        for customer_id, month in rows:
            out.setdefault(customer_id, set()).add(month)
        return {k: ", ".join(f"{m}월" for m in sorted(v)) for k, v in out.items()}

    def describe(self, params):
        months = sorted(int(m) for m in params["months"])
        ko = ", ".join(f"{m}월" for m in months)
        return f"{ko}에만 방문", f"visits only in months {', '.join(map(str, months))}"


for _condition in (Bought(), OnlyMonths()):
    register(_condition)
