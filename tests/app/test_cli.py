"""`dangol` fails with one clear sentence (Korean and English), exit code 2, no traceback."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path


def run_dangol(*args: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    full_env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DANGOL_REDIS_URL"}
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "dangol.cli.main", *args],
        capture_output=True,
        text=True,
        env=full_env,
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
