"""Hand a wave of messages (already recorded as "sending") to their providers.

A provider that declares ``parallel = n`` (SMTP: one connection per thread) gets up to n
messages at once on worker threads; any other provider gets them one after another. The
workers only call the provider: every answer is handed to ``answer`` on the calling thread,
which is the only one that touches the database, so the records are written exactly as when
messages went one at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

from dangol.messaging.providers.base import Outcome, OutgoingMessage, Provider, SendResult

# (the outbox row, what the provider is given, the provider)
Item = tuple[Any, OutgoingMessage, Provider]
Answer = Callable[[Any, SendResult], None]


def send_one(provider: Provider, outgoing: OutgoingMessage) -> SendResult:
    """The provider's answer; a provider that raises has an unknown outcome, never a lost one."""
    try:
        return provider.send(outgoing)
    except Exception as exc:
        return SendResult(Outcome.UNKNOWN, detail=f"{type(exc).__name__}: {exc}"[:200])


def send_all(items: Sequence[Item], answer: Answer) -> None:
    """Send every item and call ``answer(row, result)`` for each, on this thread."""
    groups: dict[int, list[Item]] = {}
    for item in items:
        groups.setdefault(id(item[2]), []).append(item)
    for group in groups.values():
        workers = min(int(getattr(group[0][2], "parallel", 1) or 1), len(group))
        if workers <= 1:
            for row, outgoing, provider in group:
                answer(row, send_one(provider, outgoing))
        else:
            _send_parallel(group, workers, answer)


def _send_parallel(group: list[Item], workers: int, answer: Answer) -> None:
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dangol-send")
    futures: dict[Future[SendResult], Any] = {}
    answered: set[Future[SendResult]] = set()
    try:
        for row, outgoing, provider in group:
            futures[pool.submit(send_one, provider, outgoing)] = row
        for future in as_completed(futures):
            answered.add(future)
            answer(futures[future], future.result())
    finally:
        # Stopped early (the worker is being shut down): nothing more is started, the sends
        # in flight finish, and every answer that came back is still recorded. The rest stay
        # "sending" for the lease and reconciliation, as after a crash.
        pool.shutdown(wait=True, cancel_futures=True)
        for future, row in futures.items():
            if future not in answered and future.done() and not future.cancelled():
                answer(row, future.result())
