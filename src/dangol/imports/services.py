"""Writes of the imports app: ``import_run`` brings one file in, all or nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from dangol.imports.bulk import roomy_cache
from dangol.imports.context import Context, context_stores
from dangol.imports.customer_rows import CustomerWriter
from dangol.imports.decoding import FileUnreadable, table_read
from dangol.imports.headers import CUSTOMERS, KINDS, PRODUCTS, PURCHASES, header_map
from dangol.imports.models import ImportRun, ImportStatus
from dangol.imports.presets import mapping_resolve
from dangol.imports.product_rows import ProductWriter
from dangol.imports.purchase_rows import PurchaseWriter
from dangol.imports.report import Report
from dangol.shops.models import Shop

#: The wizard's uploads; the command line reads files of any size the machine can hold.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ImportRequestError(ValueError):
    """A request that cannot start (unknown kind, a mapping that is not a mapping)."""

    def __init__(self, ko: str, en: str) -> None:
        super().__init__(en)
        self.ko = ko
        self.en = en


class _RollBack(Exception):
    pass


def _writer(kind: str, ctx: Context):
    return {CUSTOMERS: CustomerWriter, PURCHASES: PurchaseWriter, PRODUCTS: ProductWriter}[kind](
        ctx
    )


def _refresh_segments(shop_id: int) -> None:
    from dangol.segments.tasks import shop_segments_refresh_task

    shop_segments_refresh_task(shop_id)


def _apply(*, ctx: Context, kind: str, data: bytes, sheet: Any) -> None:
    try:
        table = table_read(data=data, file_name=ctx.file_name, sheet=sheet)
    except FileUnreadable as exc:
        ctx.report.add(exc.problem)
        return
    ctx.counts["header_row"] = table.header_row
    ctx.mapping = header_map(
        kind=kind,
        headers=table.headers,
        overrides=ctx.spec.get("columns"),
        header_row=table.header_row,
    )
    for problem in ctx.mapping.problems:
        ctx.report.add(problem)
    if not ctx.report.ok:
        return
    context_stores(ctx=ctx)
    writer = _writer(kind, ctx)
    with roomy_cache(file_bytes=len(data)):
        writer.write(table.rows)
        if kind == PURCHASES and ctx.writing and writer.touched:
            from dangol.sales.services import customer_stats_rebuild

            customer_stats_rebuild(shop=ctx.shop, customer_ids=sorted(writer.touched))
            ctx.counts["customers_touched"] = len(writer.touched)


def import_run(
    *,
    shop: Shop,
    kind: str,
    data: bytes,
    file_name: str,
    mapping: dict[str, Any] | None = None,
    dry_run: bool = False,
    actor: AbstractBaseUser | None = None,
    progress: Callable[[int], None] | None = None,
    run: ImportRun | None = None,
) -> ImportRun:
    """Check and import one file in one transaction. Any error rolls the whole file back and
    the returned run (status failed) carries the report; a dry run always rolls back (status
    checked when it would have worked). Re-importing the same file creates nothing new."""
    if kind not in KINDS:
        raise ImportRequestError(
            f"알 수 없는 가져오기 종류: {kind}", f"Unknown import kind: {kind}"
        )
    try:
        spec = mapping_resolve(spec=mapping)
    except ValueError as exc:
        raise ImportRequestError(
            f"매핑 파일이 잘못되었습니다: {exc}", f"Invalid mapping: {exc}"
        ) from exc
    ctx = Context(
        shop=shop,
        mapping=header_map(kind=kind, headers=[]),
        report=Report(),
        file_name=Path(file_name).name[:200],
        spec=spec,
        now=timezone.now(),
        progress=progress,
    )
    record = dict(
        kind=kind,
        file_name=ctx.file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        dry_run=dry_run,
        mapping=mapping or {},
        created_by=actor,
    )
    try:
        with transaction.atomic():
            _apply(ctx=ctx, kind=kind, data=data, sheet=spec.get("sheet"))
            if dry_run or not ctx.report.ok:
                raise _RollBack
            saved = _record(shop=shop, run=run, ctx=ctx, status=ImportStatus.IMPORTED, **record)
            if kind == PURCHASES and ctx.counts["purchases_created"]:
                transaction.on_commit(lambda: _refresh_segments(shop.pk))
            return saved
    except _RollBack:
        pass
    status = ImportStatus.CHECKED if ctx.report.ok else ImportStatus.FAILED
    if not ctx.report.ok:
        # Counts of a rolled-back file would claim writes that never happened.
        ctx.counts = type(ctx.counts)(rows=ctx.counts["rows"])
    return _record(shop=shop, run=run, ctx=ctx, status=status, **record)


def _record(*, shop: Shop, run: ImportRun | None, ctx: Context, status: str, **fields) -> ImportRun:
    run = run or ImportRun(shop=shop)
    for name, value in fields.items():
        if name == "created_by" and run.pk:
            continue
        setattr(run, name, value)
    run.status = status
    run.counts = dict(ctx.counts)
    run.report = ctx.report.as_dict()
    run.report["columns"] = [
        {"header": c.header, "field": c.field, "confidence": c.confidence, "via": c.via}
        for c in ctx.mapping.columns
    ]
    run.finished_at = timezone.now()
    run.save()
    return run


def _upload_dir(shop: Shop) -> Path:
    return Path(settings.DATA_DIR) / "imports" / str(shop.pk)


def import_upload(
    *, shop: Shop, kind: str, data: bytes, file_name: str, actor: AbstractBaseUser | None = None
) -> ImportRun:
    """Keep an uploaded file for the wizard's next steps (nothing is imported yet)."""
    if kind not in KINDS:
        raise ImportRequestError(
            f"알 수 없는 가져오기 종류: {kind}", f"Unknown import kind: {kind}"
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportRequestError(
            f"파일이 너무 큽니다 (최대 {MAX_UPLOAD_BYTES // 1024 // 1024}MB). 명령어로 가져오세요.",
            f"The file is too large (at most {MAX_UPLOAD_BYTES // 1024 // 1024} MB); use the "
            "command line.",
        )
    digest = hashlib.sha256(data).hexdigest()
    folder = _upload_dir(shop)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / digest).write_bytes(data)
    return ImportRun.objects.for_shop(shop).create(
        shop=shop,
        kind=kind,
        file_name=Path(file_name).name[:200] or "upload",
        sha256=digest,
        size=len(data),
        status=ImportStatus.UPLOADED,
        stored_as=digest,
        created_by=actor,
    )


def import_stored_bytes(*, run: ImportRun) -> bytes:
    path = _upload_dir(run.shop) / run.stored_as
    if not run.stored_as or not path.is_file():
        raise ImportRequestError(
            "올린 파일이 더 이상 없습니다. 다시 올려 주세요.",
            "The uploaded file is gone; upload it again.",
        )
    return path.read_bytes()
