"""Product lists → products, matched by SKU (or by name when the file has no SKU column).
Products the shop already has are left as they are, so a re-import changes nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from dangol.imports.context import CHUNK, Context
from dangol.imports.decoding import RawRow
from dangol.imports.values import ValueProblem, clean_text, parse_active, parse_amount
from dangol.sales.models import Product
from dangol.sales.services import product_bulk_create


def _name_sku(name: str) -> str:
    """A stable SKU for a file without one: the same name always gets the same code."""
    return "N-" + hashlib.sha256(name.casefold().encode()).hexdigest()[:16]


class ProductWriter:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.seen: dict[str, int] = {}
        known = Product.objects.for_shop(ctx.shop).values_list("sku", "name")
        self.skus = {sku.casefold() for sku, _ in known}
        self.names = {name.strip().casefold() for _, name in known}

    def _text(self, raw: RawRow, name: str, limit: int, ko: str, en: str) -> str | None:
        try:
            return clean_text(self.ctx.cell(raw, name), limit=limit, label_ko=ko, label_en=en)
        except ValueProblem as exc:
            self.ctx.problem(raw, name, exc)
            return None

    def _price(self, raw: RawRow, name: str) -> int | None:
        text = self.ctx.cell(raw, name)
        if not text:
            if name == "unit_price":
                self.ctx.problem(
                    raw,
                    name,
                    ValueProblem("amount_missing", "가격이 비어 있습니다.", "The price is empty."),
                )
                return None
            return 0
        try:
            value = parse_amount(text)
        except ValueProblem as exc:
            self.ctx.problem(raw, name, exc)
            return None
        if value < 0:
            self.ctx.problem(
                raw,
                name,
                ValueProblem(
                    "amount_negative", "가격은 음수일 수 없습니다.", "A price cannot be negative."
                ),
            )
            return None
        return value

    def product_from(self, raw: RawRow) -> Product | None:
        errors = self.ctx.report.errors
        name = self._text(raw, "name", 120, "상품명", "name")
        sku = self._text(raw, "sku", 60, "상품코드", "SKU")
        category = self._text(raw, "category", 60, "분류", "category") or ""
        price = self._price(raw, "unit_price")
        cost = self._price(raw, "unit_cost")
        if name == "":
            self.ctx.problem(
                raw,
                "name",
                ValueProblem("name_missing", "상품명이 비어 있습니다.", "The name is empty."),
            )
        if self.ctx.report.errors > errors or name is None or sku is None:
            return None
        sku = sku or _name_sku(name)
        first = self.seen.get(sku.casefold())
        if first is not None:
            self.ctx.problem(
                raw,
                "sku" if self.ctx.has("sku") else "name",
                ValueProblem(
                    "duplicate_row",
                    f"{first}행과 같은 상품입니다 (중복).",
                    f"The same product as row {first} (a duplicate).",
                ),
            )
            return None
        self.seen[sku.casefold()] = raw.number
        return Product(
            sku=sku,
            name=name,
            category=category,
            price=price,
            unit_cost=cost,
            active=parse_active(self.ctx.cell(raw, "active")),
        )

    def _products(self, rows: Iterator[RawRow]) -> Iterator[Product]:
        for raw in rows:
            self.ctx.counts["rows"] += 1
            if raw.problem:
                self.ctx.report.add(raw.problem)
                continue
            product = self.product_from(raw)
            if product:
                yield product

    def write(self, rows: Iterator[RawRow]) -> None:
        chunk: list[Product] = []
        for product in self._products(rows):
            chunk.append(product)
            if len(chunk) >= CHUNK:
                self._flush(chunk)
                chunk = []
        self._flush(chunk)

    def _flush(self, products: list[Product]) -> None:
        if not products or not self.ctx.writing:
            return
        by_sku = self.ctx.has("sku")
        fresh = [
            p
            for p in products
            if (
                p.sku.casefold() not in self.skus
                if by_sku
                else p.name.strip().casefold() not in self.names
            )
        ]
        self.ctx.counts["products_existing"] += len(products) - len(fresh)
        product_bulk_create(shop=self.ctx.shop, products=fresh)
        self.ctx.counts["products_created"] += len(fresh)
