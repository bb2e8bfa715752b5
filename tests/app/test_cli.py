"""`dangol` fails with one clear sentence (Korean and English), exit code 2, no traceback."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path


def _clean_env(env: dict[str, str]) -> dict[str, str]:
    """The test's own environment minus database/queue settings, plus the given ones."""
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DANGOL_REDIS_URL"}}
    return {**base, **env}


def run_dangol(*args: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dangol.cli.main", *args],
        capture_output=True,
        text=True,
        env=_clean_env(env),
        timeout=timeout,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_clean_failure(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "오류:" in result.stderr and "Error:" in result.stderr
    for needle in needles:
        assert needle in result.stderr


def test_missing_shop(tmp_path):
    env = {"DANGOL_DATA_DIR": str(tmp_path)}
    assert run_dangol("migrate", env=env).returncode == 0
    result = run_dangol("createowner", "--shop", "nowhere", "--username", "x", env=env)
    _assert_clean_failure(result, "nowhere")


def test_bad_database_url(tmp_path):
    result = run_dangol(
        "migrate", env={"DANGOL_DATA_DIR": str(tmp_path), "DATABASE_URL": "mysql://x@y/z"}
    )
    _assert_clean_failure(result, "DATABASE_URL")
    port = _free_port()
    result = run_dangol(
        "migrate",
        env={
            "DANGOL_DATA_DIR": str(tmp_path),
            "DATABASE_URL": f"postgres://u:p@127.0.0.1:{port}/db",
        },
    )
    _assert_clean_failure(result, "DATABASE_URL")


def test_unwritable_data_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_dangol("migrate", env={"DANGOL_DATA_DIR": str(blocker / "var")})
    _assert_clean_failure(result, "DANGOL_DATA_DIR")


def test_unreachable_redis(tmp_path):
    port = _free_port()
    env = {"DANGOL_DATA_DIR": str(tmp_path), "DANGOL_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    result = run_dangol("worker", env=env)
    _assert_clean_failure(result, "Redis")


def test_keys_are_generated_private_and_reused(tmp_path):
    env = {"DANGOL_DATA_DIR": str(tmp_path)}
    assert run_dangol("migrate", env=env).returncode == 0
    names = ["secret_key", "field_keys", "blind_index_key"]
    first = {}
    for name in names:
        path = Path(tmp_path) / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        first[name] = path.read_text()
    assert run_dangol("migrate", env=env).returncode == 0
    assert {n: (Path(tmp_path) / n).read_text() for n in names} == first


def test_bad_field_key_in_environment(tmp_path):
    result = run_dangol(
        "migrate", env={"DANGOL_DATA_DIR": str(tmp_path), "DANGOL_FIELD_KEYS": "short"}
    )
    _assert_clean_failure(result, "DANGOL_FIELD_KEYS")


def test_seed_demo_rejects_bad_arguments(tmp_path):
    env = {"DANGOL_DATA_DIR": str(tmp_path)}
    _assert_clean_failure(run_dangol("seed-demo", "--customers", "0", env=env), "--customers")
    _assert_clean_failure(run_dangol("seed-demo", "--end", "2025-13-40", env=env), "--end")


def _huey_class(env: dict[str, str]) -> str:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dangol.settings');"
        "django.setup(); from huey.contrib.djhuey import HUEY; print(type(HUEY).__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_env(env),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_jobs_run_on_sqlite_by_default_and_on_redis_when_configured(tmp_path):
    assert _huey_class({"DANGOL_DATA_DIR": str(tmp_path)}) == "SqliteHuey"
    redis_env = {"DANGOL_DATA_DIR": str(tmp_path), "DANGOL_REDIS_URL": "redis://127.0.0.1:6399/0"}
    assert _huey_class(redis_env) == "RedisHuey"


def test_createowner_refuses_an_existing_login(tmp_path):
    env = {"DANGOL_DATA_DIR": str(tmp_path)}
    _assert_clean_failure(run_dangol("seed-demo", env=env), "dangol migrate")
    assert run_dangol("migrate", env=env).returncode == 0
    seeded = run_dangol("seed-demo", "--customers", "5", "--months", "1", env=env, timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    first = run_dangol("createowner", "--shop", "demo", "--username", "kim", env=env)
    assert first.returncode == 0 and "Password" in first.stdout
    _assert_clean_failure(
        run_dangol("createowner", "--shop", "demo", "--username", "kim", env=env), "kim"
    )
    replaced = run_dangol("seed-demo", "--customers", "5", "--months", "1", "--replace", env=env)
    assert replaced.returncode == 0, replaced.stderr
