"""`dangol policy check`: the README's example cases, and clear errors for bad input."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).with_name("policy_cases.json")


def dangol(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dangol.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_case() -> dict:
    return copy.deepcopy(json.loads(EXAMPLES.read_text(encoding="utf-8"))[0])


def check(tmp_path: Path, cases) -> subprocess.CompletedProcess:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    return dangol("policy", "check", str(path))


def assert_user_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "오류:" in result.stderr and "Error:" in result.stderr
    flat = " ".join(result.stderr.split())
    for needle in needles:
        assert needle in flat, result.stderr


def test_the_readme_examples(tmp_path):
    out = tmp_path / "decisions.json"
    result = dangol("policy", "check", str(EXAMPLES), "--json", str(out))
    assert result.returncode == 0, result.stderr
    for heading in ("결정", "decision", "보류 해제", "hold until", "사유", "reasons"):
        assert heading in result.stdout
    assert "send 3, hold 2, block 2" in result.stdout
    decisions = json.loads(out.read_text(encoding="utf-8"))
    assert [d["decision"] for d in decisions] == [
        "send",
        "hold",
        "hold",
        "block",
        "send",
        "block",
        "send",
    ]
    first = decisions[0]
    assert first == {
        "decision": "send",
        "hold_until": None,
        "reasons": ["added_ad_marker", "added_optout_footer"],
        "final_body": (
            "(광고)단골커피 02-123-4567\n봄 신메뉴 딸기라떼 출시!\n무료수신거부 080-123-4567"
        ),
        "final_subject": "",
        "bytes": 77,
        "message_type": "SMS",
    }
    # 13:30 UTC is 22:30 in Seoul: held until 08:00 Seoul, and now an LMS (94 bytes).
    assert decisions[1]["hold_until"] == "2026-03-03T08:00:00+09:00"
    assert decisions[1]["message_type"] == "LMS"
    assert decisions[2]["reasons"][-1] == "kakao_brand_window_hold"
    assert decisions[3]["reasons"] == ["ad_on_alimtalk"]
    assert decisions[5]["reasons"] == [
        "frequency_cap_24h",
        "no_optout_080",
        "added_ad_marker",
        "unregistered_sender",
        "emoji_in_sms:U+2615 ☕",
    ]
    assert decisions[6]["final_subject"] == "(광고) 3월 원두 소식"


def test_an_empty_list_is_fine(tmp_path):
    result = check(tmp_path, [])
    assert result.returncode == 0, result.stderr
    assert "send 0, hold 0, block 0" in result.stdout


def test_no_such_file(tmp_path):
    assert_user_error(dangol("policy", "check", str(tmp_path / "nope.json")), "No such file")


def test_not_json(tmp_path):
    path = tmp_path / "cases.json"
    path.write_text('[{"channel": "sms",}]', encoding="utf-8")
    assert_user_error(dangol("policy", "check", str(path)), "Not valid JSON", "line 1", "JSON 형식")


def test_not_a_list(tmp_path):
    assert_user_error(check(tmp_path, one_case()), "Expected a list of cases", "got object")


def test_a_case_that_is_not_an_object(tmp_path):
    assert_user_error(check(tmp_path, [one_case(), "sms"]), "cases[1]: must be an object")


@pytest.mark.parametrize("field", ["channel", "kind", "body", "send_at", "recipient", "shop"])
def test_a_missing_field_is_named_with_its_case(tmp_path, field):
    broken = one_case()
    del broken[field]
    result = check(tmp_path, [one_case(), broken])
    assert_user_error(result, f"cases[1].{field}: required field is missing", "필수 항목")


def test_a_missing_nested_field(tmp_path):
    broken = one_case()
    del broken["recipient"]["ad_consent"]
    del broken["shop"]["name"]
    result = check(tmp_path, [broken])
    assert_user_error(
        result, "cases[0].recipient.ad_consent: required", "cases[0].shop.name: required"
    )


@pytest.mark.parametrize("send_at", ["2026-03-02T10:00:00", "2026-03-02 10:00", "2026-03-02"])
def test_send_at_without_an_offset(tmp_path, send_at):
    broken = one_case()
    broken["send_at"] = send_at
    assert_user_error(check(tmp_path, [broken]), "cases[0].send_at", "no UTC offset", "시간대")


def test_send_at_that_is_no_date(tmp_path):
    broken = one_case()
    broken["send_at"] = "next monday"
    assert_user_error(check(tmp_path, [broken]), "cases[0].send_at", "not an ISO-8601")


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (("channel",), "fax", "cases[0].channel: unknown channel 'fax'"),
        (("body",), 42, "cases[0].body: must be string, got number"),
        (("recipient", "night_consent"), "yes", "recipient.night_consent: must be boolean"),
        (("recipient", "opted_out"), 1, "recipient.opted_out: must be boolean, got number"),
        (("recipient", "messages_last_24h"), True, "messages_last_24h: must be number"),
        (("recipient", "messages_last_30d"), -1, "messages_last_30d: must be 0 or more"),
        (("recipient", "ad_consent"), ["sms"], "ad_consent: must be object, got array"),
        (("recipient", "ad_consent", "sms"), "true", "ad_consent.sms: must be true or false"),
        (("recipient", "ad_consent", "kakaotalk"), True, "unknown channel family"),
        (("shop", "sender_numbers"), "010-1234-5678", "sender_numbers: must be array"),
        (("shop", "sender_numbers"), [1012345678], "sender_numbers: must be a list of strings"),
        (("settings",), {"quiet_hours": ["22시", "09:00"]}, "quiet_hours[0]: not an HH:MM"),
        (("targeting",), "X", "cases[0].targeting: must be I, M or N"),
    ],
)
def test_wrong_types_are_named(tmp_path, path, value, needle):
    broken = one_case()
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert_user_error(check(tmp_path, [broken]), needle)


def test_every_error_is_listed_not_only_the_first(tmp_path):
    a, b = one_case(), one_case()
    a["send_at"] = "2026-03-02T10:00:00"
    b["kind"] = None
    result = check(tmp_path, [a, b])
    assert_user_error(result, "cases[0].send_at", "cases[1].kind")


def test_a_cp949_file_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "cases.json"
    path.write_bytes(json.dumps([one_case()], ensure_ascii=False).encode("cp949"))
    assert_user_error(dangol("policy", "check", str(path)), "Not a UTF-8 file", "CP949")


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "cases.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([one_case()], ensure_ascii=False).encode())
    result = dangol("policy", "check", str(path))
    assert result.returncode == 0, result.stderr


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    assert_user_error(dangol("policy", "check", str(path)), "File too large", "너무 큽니다")


def test_settings_per_case(tmp_path):
    case = one_case()
    case["send_at"] = "2026-03-02T08:30:00+09:00"
    case["settings"] = {"quiet_hours": ["22:00", "09:00"], "ad_cap_24h": 2}
    case["recipient"]["messages_last_24h"] = 1
    out = tmp_path / "out.json"
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([case], ensure_ascii=False), encoding="utf-8")
    result = dangol("policy", "check", str(path), "--json", str(out))
    assert result.returncode == 0, result.stderr
    [decision] = json.loads(out.read_text(encoding="utf-8"))
    assert decision["decision"] == "hold"
    assert decision["hold_until"] == "2026-03-02T09:00:00+09:00"
    assert decision["reasons"][-1] == "quiet_hours_hold"


def test_the_readme_explains_every_reason_code():
    from dangol.messaging.policy import REASON_CODES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The policy gate", 1)[1]
    assert "tests/messaging/policy_cases.json" in section
    missing = [code for code in sorted(REASON_CODES) if f"| `{code}` |" not in section]
    assert missing == []
