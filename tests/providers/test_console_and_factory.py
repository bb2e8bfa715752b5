from __future__ import annotations

import json

import pytest

from dangol.messaging.providers import (
    PROVIDERS,
    ConsoleProvider,
    NhnAlimtalkProvider,
    NhnBrandMessageProvider,
    NhnSmsProvider,
    Outcome,
    SmtpProvider,
    SolapiProvider,
    provider_from_settings,
)

from .fakes import Answer
from .messages import sms
from .test_nhn import APP, SECRET, sms_contract, sms_sent
from .test_solapi import KEY, accepted, solapi_contract
from .test_solapi import SECRET as SOLAPI_SECRET


def test_console_records_and_delivers(tmp_path):
    path = tmp_path / "outbox.jsonl"
    console = ConsoleProvider(path=path)
    first = sms(body="첫 번째 안내")
    result = console.send(first)
    assert (result.outcome, result.provider_message_id) == (
        Outcome.DELIVERED,
        f"console:{first.idempotency_key}",
    )
    again = console.send(first)
    assert again.outcome is Outcome.DELIVERED and again.code == "duplicate"
    console.send(sms(idempotency_key="k2", body="두 번째"))
    assert [m.body for m in console.sent] == ["첫 번째 안내", "두 번째"]
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["idempotency_key"] for line in lines] == [first.idempotency_key, "k2"]
    assert lines[0]["body"] == "첫 번째 안내"

    # status survives a restart through the file; an unknown key was never sent
    restarted = ConsoleProvider(path=path)
    assert restarted.status(first).outcome is Outcome.DELIVERED
    missing = restarted.status(sms(idempotency_key="never"))
    assert (missing.outcome, missing.retryable) == (Outcome.FAILED, True)


def test_factory_builds_each_provider():
    built = {
        "console": provider_from_settings("console"),
        "smtp": provider_from_settings("smtp", host="mail", port=587, from_address="a@b.kr"),
        "solapi": provider_from_settings("solapi", api_key="k", api_secret="s"),
        "nhn_sms": provider_from_settings("nhn_sms", app_key="a", secret_key="s"),
        "nhn_alimtalk": provider_from_settings(
            "nhn_alimtalk", app_key="a", secret_key="s", sender_key="k" * 40
        ),
        "nhn_brand": provider_from_settings(
            "nhn_brand", app_key="a", secret_key="s", sender_key="k" * 40
        ),
    }
    expected = {
        "console": ConsoleProvider,
        "smtp": SmtpProvider,
        "solapi": SolapiProvider,
        "nhn_sms": NhnSmsProvider,
        "nhn_alimtalk": NhnAlimtalkProvider,
        "nhn_brand": NhnBrandMessageProvider,
    }
    assert set(PROVIDERS) == set(expected)
    for name, provider in built.items():
        assert type(provider) is expected[name]
        assert provider.name == name
        assert provider.channels
    with pytest.raises(ValueError, match="unknown provider"):
        provider_from_settings("carrier-pigeon")
    with pytest.raises(ValueError):
        provider_from_settings(
            "nhn_brand", app_key="a", secret_key="s", sender_key="k", targeting="M2"
        )


def test_a_thousand_sends_against_the_local_servers(serve):
    """Functional only: many sequential sends work and every request keeps the contract."""
    solapi_api = serve(solapi_contract())
    solapi_api.reply(Answer(200, accepted()))
    nhn_api = serve(sms_contract)
    nhn_api.reply(Answer(200, sms_sent()))
    solapi = SolapiProvider(KEY, SOLAPI_SECRET, base_url=solapi_api.url, timeout=5)
    nhn = NhnSmsProvider(APP, SECRET, base_url=nhn_api.url, timeout=5)
    outcomes = set()
    for n in range(500):
        outcomes.add(solapi.send(sms(idempotency_key=f"bulk-{n}")).outcome)
        outcomes.add(nhn.send(sms(idempotency_key=f"bulk-{n}")).outcome)
    assert outcomes == {Outcome.ACCEPTED}
    assert len(solapi_api.requests) == len(nhn_api.requests) == 500
    assert solapi_api.violations == nhn_api.violations == []
