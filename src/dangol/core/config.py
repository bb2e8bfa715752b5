"""Configuration read from the environment, and secrets kept in the data directory.

Keys are never in the repository: when the environment does not give them, they are generated
once into the data directory with file mode 0600 and reused on every later start.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path


class ConfigError(Exception):
    """A configuration problem the user can fix; carries a Korean and an English sentence."""

    def __init__(self, ko: str, en: str) -> None:
        super().__init__(f"{ko}\n{en}")
        self.ko = ko
        self.en = en


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def data_dir() -> Path:
    path = Path(env("DANGOL_DATA_DIR", "var")).expanduser().resolve()  # type: ignore[arg-type]
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"데이터 디렉터리 {path}에 쓸 수 없습니다 ({exc.strerror}). "
            "DANGOL_DATA_DIR을 쓰기 가능한 위치로 지정하세요.",
            f"The data directory {path} is not writable ({exc.strerror}). "
            "Point DANGOL_DATA_DIR at a writable location.",
        ) from exc
    return path


def _secret_file(directory: Path, name: str, make: Callable[[], str]) -> str:
    path = directory / name
    if path.exists():
        return path.read_text().strip()
    value = make()
    # O_EXCL: two processes starting together must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def secret_key(directory: Path) -> str:
    return env("DANGOL_SECRET_KEY") or _secret_file(
        directory, "secret_key", lambda: secrets.token_urlsafe(50)
    )


def field_keys(directory: Path) -> list[str]:
    """AES-256-GCM keys for personal data; the first encrypts, all decrypt (rotation)."""
    raw = env("DANGOL_FIELD_KEYS") or _secret_file(directory, "field_keys", _new_key)
    keys = _split_keys(raw)
    for key in keys:
        try:
            ok = len(base64.urlsafe_b64decode(key)) == 32
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(
                "DANGOL_FIELD_KEYS의 키는 base64로 인코딩된 32바이트여야 합니다.",
                "Each key in DANGOL_FIELD_KEYS must be 32 bytes, base64-encoded.",
            )
    return keys


def _split_keys(raw: str) -> list[str]:
    return [k.strip() for k in raw.replace("\n", ",").split(",") if k.strip()]


def blind_index_keys(directory: Path) -> list[str]:
    """HMAC keys for look-ups; the first computes new indexes, all are queried (rotation).

    ``DANGOL_BLIND_INDEX_KEY`` (or the data-directory file) holds ``new,old`` while the
    indexes are recomputed, so a customer indexed under either key is still found.
    """
    raw = env("DANGOL_BLIND_INDEX_KEY") or _secret_file(directory, "blind_index_key", _new_key)
    keys = _split_keys(raw)
    for key in keys:
        try:
            base64.urlsafe_b64decode(key)
        except ValueError as exc:
            raise ConfigError(
                "DANGOL_BLIND_INDEX_KEY의 키는 base64로 인코딩되어야 합니다.",
                "Each key in DANGOL_BLIND_INDEX_KEY must be base64-encoded.",
            ) from exc
    if not keys:
        raise ConfigError(
            "DANGOL_BLIND_INDEX_KEY가 비어 있습니다.", "DANGOL_BLIND_INDEX_KEY is empty."
        )
    return keys


def new_key() -> str:
    """A fresh random 32-byte key, base64-encoded, for either key setting."""
    return _new_key()
