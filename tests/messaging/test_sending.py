"""Handing a wave to providers: a provider that allows it gets several messages at once on
worker threads, but every answer is given back on the calling thread, once per message."""

from __future__ import annotations

import threading
import time

import pytest

from dangol.messaging.providers.base import Outcome, OutgoingMessage, SendResult
from dangol.messaging.sending import send_all


def _message(i: int) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=f"k{i}",
        channel="email",
        message_type="EMAIL",
        kind="info",
        to=f"g{i}@example.com",
        sender="",
        body="안녕하세요",
        subject="안내",
    )


class Slow:
    name = "slow"

    def __init__(self, parallel: int, fail_on: str = "") -> None:
        self.parallel = parallel
        self.fail_on = fail_on
        self.lock = threading.Lock()
        self.busy = 0
        self.most = 0
        self.threads: set[str] = set()
        self.calls: list[str] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        with self.lock:
            self.busy += 1
            self.most = max(self.most, self.busy)
            self.threads.add(threading.current_thread().name)
            self.calls.append(message.idempotency_key)
        time.sleep(0.005)  # long enough for the other workers to start
        with self.lock:
            self.busy -= 1
        if message.idempotency_key == self.fail_on:
            raise ConnectionError("adapter bug")
        return SendResult(Outcome.DELIVERED, provider_message_id=message.idempotency_key)

    def status(self, message, provider_message_id=""):
        return SendResult(Outcome.UNKNOWN)


def test_a_parallel_provider_gets_at_most_its_number_of_messages_at_once():
    provider = Slow(parallel=3, fail_on="k7")
    answered: list[tuple[str, SendResult, str]] = []
    messages = [_message(i) for i in range(30)]
    send_all(
        [(m.idempotency_key, m, provider) for m in messages],
        lambda row, result: answered.append((row, result, threading.current_thread().name)),
    )
    assert sorted(provider.calls) == sorted(m.idempotency_key for m in messages)
    assert 1 < provider.most <= 3 and len(provider.threads) <= 3
    assert sorted(row for row, _, _ in answered) == sorted(provider.calls)
    assert {name for _, _, name in answered} == {threading.current_thread().name}
    outcomes = {row: result.outcome for row, result, _ in answered}
    assert outcomes.pop("k7") is Outcome.UNKNOWN  # raised: unknown, never lost
    assert set(outcomes.values()) == {Outcome.DELIVERED}


def test_a_provider_without_parallel_gets_one_message_at_a_time_in_order():
    provider = Slow(parallel=1)
    provider.parallel = None  # as a provider that does not declare it
    rows: list[str] = []
    messages = [_message(i) for i in range(5)]
    send_all([(m.idempotency_key, m, provider) for m in messages], lambda r, _: rows.append(r))
    assert provider.most == 1 and rows == provider.calls == [f"k{i}" for i in range(5)]


def test_answers_already_back_are_recorded_when_the_caller_stops_early():
    provider = Slow(parallel=2)
    answered: list[str] = []

    def answer(row, result):
        answered.append(row)
        if len(answered) == 3:
            raise KeyboardInterrupt  # the worker is being stopped

    messages = [_message(i) for i in range(40)]
    with pytest.raises(KeyboardInterrupt):
        send_all([(m.idempotency_key, m, provider) for m in messages], answer)
    # Every send that happened was answered (those in flight included); none was sent twice,
    # and the rest were never started.
    assert sorted(answered) == sorted(provider.calls)
    assert len(set(provider.calls)) == len(provider.calls) < 40
