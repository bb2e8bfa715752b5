"""Status changes of outbox rows: one at a time (``record``) or collected and written together
(``Changes``), always with the append-only history event beside the new status."""

from __future__ import annotations

from collections import defaultdict

from django.db import connections, router, transaction
from django.utils import timezone

from dangol.messaging.models import OutboxMessage
from dangol.messaging.services import message_event, message_events_bulk


def record(message: OutboxMessage, status: str, reasons=None, detail: str = "", **fields) -> None:
    """Set the status (and, if given, the reasons: a delivery keeps the gate's reasons) and
    append the event."""
    with transaction.atomic():
        message.status = status
        if reasons is not None:
            message.reasons = list(reasons)
        message.updated_at = timezone.now()
        for name, value in fields.items():
            setattr(message, name, value)
        message.save(
            update_fields=["status", "reasons", "updated_at", "claimed_by", *fields.keys()]
        )
        message_event(message=message, status=status, reasons=list(reasons or []), detail=detail)


def update_rows(messages: list[OutboxMessage], names: tuple[str, ...]) -> None:
    """``save(update_fields=names)`` for many rows: one prepared UPDATE run once per row
    (values prepared by the fields themselves, so encrypted fields are encrypted)."""
    if not messages:
        return
    meta = OutboxMessage._meta
    connection = connections[router.db_for_write(OutboxMessage)]
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    # Only the model's own table and column names go into the text; values are parameters.
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    rows = [
        [f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields] + [m.pk]
        for m in messages
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


class Changes:
    """Status changes collected like ``_record`` makes them, written together by ``flush``:
    one transaction, one UPDATE statement per set of columns, one INSERT of the events."""

    def __init__(self) -> None:
        self.items: list[tuple[OutboxMessage, tuple[str, ...], str, list[str], str]] = []

    def record(
        self, message: OutboxMessage, status: str, reasons=None, detail: str = "", **fields
    ) -> None:
        message.status = status
        if reasons is not None:
            message.reasons = list(reasons)
        message.updated_at = timezone.now()
        for name, value in fields.items():
            setattr(message, name, value)
        names = tuple(dict.fromkeys(("status", "reasons", "updated_at", "claimed_by", *fields)))
        self.items.append((message, names, status, list(reasons or []), detail))

    def flush(self) -> None:
        if not self.items:
            return
        groups: dict[tuple[str, ...], list[OutboxMessage]] = defaultdict(list)
        for message, names, *_ in self.items:
            groups[names].append(message)
        with transaction.atomic():
            for names, messages in groups.items():
                update_rows(messages, names)
            message_events_bulk(
                [
                    (message, status, reasons, detail)
                    for message, _, status, reasons, detail in self.items
                ]
            )
        self.items.clear()
