"""Encryption of project secrets at rest: the master keys, where they live,
and AES-256-GCM with associated data that binds a ciphertext to its row.

The master key comes from ``PROJDECK_SECRET_KEY`` (urlsafe base64 of 32
bytes) when set, with older keys in ``PROJDECK_SECRET_KEY_PREVIOUS``
(comma-separated) while secrets are moved to a new one. Otherwise it lives in
a key file, ``keys.json`` in the user config dir (``PROJDECK_KEY_FILE``
overrides the path), created on first use with mode 0600. The first key in
it is the current one; a second, not retired, means a rotation is in
progress; keys a rotation replaced stay in it marked retired, only to
decrypt (a backup or export taken before the rotation still reads). A key's
id is derived from the key itself, so the same key has the same id wherever
it comes from. Rotations take turns through a lock file beside the key file.

Nothing here ever puts a key or a plaintext in a message, a ``repr`` or an
exception.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import hashlib
import json
import os
import secrets as random
import stat
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from store.config import APP_NAME
from store.errors import StoreError
from store.files import sync_folder
from store.types import utcnow

SECRET_KEY_ENV: Final = "PROJDECK_SECRET_KEY"  # noqa: S105 (a variable name)
PREVIOUS_KEYS_ENV: Final = "PROJDECK_SECRET_KEY_PREVIOUS"
KEY_FILE_ENV: Final = "PROJDECK_KEY_FILE"
KEY_FILE_NAME: Final = "keys.json"
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
_FORMAT_VERSION: Final = 1
_AAD_PREFIX: Final = b"projdeck-secret-v1"


class MasterKeyError(StoreError):
    """The master key is missing, malformed or not safely stored."""


class KeyFileMissing(MasterKeyError):
    """There is no key file (and no key in the environment)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"no key file at {path} and {SECRET_KEY_ENV} is not set")


class DecryptionFailed(StoreError):
    """A ciphertext could not be decrypted: wrong key, or tampered with."""


class SecretValue:
    """A secret's plaintext. ``repr``, ``str`` and formatting never show it;
    ``reveal()`` does, and only code that means to show or use it calls it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a secret value is text")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretValue('**********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretValue):
            return random.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash((SecretValue, self._value))

    def __reduce__(self) -> Any:
        # Pickling would write the plaintext somewhere nobody meant it to go.
        raise TypeError("secret values cannot be pickled")


def key_id_for(material: bytes) -> str:
    """A short, stable id for a key: a hash of it, which does not reveal it."""
    return hashlib.sha256(b"projdeck-key-id\x00" + material).hexdigest()[:16]


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    material: bytes = field(repr=False)
    # Replaced by a rotation: kept to decrypt, never to encrypt.
    retired: bool = field(default=False, repr=False)


def new_key() -> MasterKey:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    material = AESGCM.generate_key(bit_length=256)
    return MasterKey(key_id=key_id_for(material), material=material)


def encode_key(material: bytes) -> str:
    return base64.urlsafe_b64encode(material).decode("ascii")


def decode_key(text: str, where: str) -> MasterKey:
    try:
        material = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise MasterKeyError(f"{where} is not urlsafe base64") from None
    if len(material) != KEY_BYTES:
        raise MasterKeyError(
            f"{where} must be {KEY_BYTES} bytes (urlsafe base64), not {len(material)} bytes"
        )
    return MasterKey(key_id=key_id_for(material), material=material)


@dataclass(frozen=True)
class Keyring:
    """The keys that can decrypt, the first being the one that encrypts.

    ``path`` is the key file they came from, or None for the environment.
    ``previous`` are the keys a rotation in progress moves secrets from;
    ``retired`` the ones earlier rotations replaced (kept only to decrypt).
    """

    keys: tuple[MasterKey, ...]
    path: Path | None = None

    @property
    def current(self) -> MasterKey:
        return self.keys[0]

    @property
    def previous(self) -> tuple[MasterKey, ...]:
        return tuple(key for key in self.keys[1:] if not key.retired)

    @property
    def retired(self) -> tuple[MasterKey, ...]:
        return tuple(key for key in self.keys[1:] if key.retired)

    def get(self, key_id: str) -> MasterKey | None:
        return next((key for key in self.keys if key.key_id == key_id), None)

    @property
    def source(self) -> str:
        return str(self.path) if self.path is not None else SECRET_KEY_ENV


def default_key_file() -> Path:
    override = os.environ.get(KEY_FILE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / KEY_FILE_NAME


def load_keyring(*, create: bool = True) -> Keyring:
    """The keyring from the environment, else from the key file (made on
    first use when ``create``; KeyFileMissing otherwise)."""
    from_env = os.environ.get(SECRET_KEY_ENV, "").strip()
    if from_env:
        keys = [decode_key(from_env, SECRET_KEY_ENV)]
        for index, text in enumerate(os.environ.get(PREVIOUS_KEYS_ENV, "").split(",")):
            if text.strip():
                keys.append(decode_key(text, f"{PREVIOUS_KEYS_ENV} (item {index + 1})"))
        return Keyring(keys=tuple(_unique(keys)))
    path = default_key_file()
    if not path.exists():
        if not create:
            raise KeyFileMissing(path)
        return _create_key_file(path)
    return read_key_file(path)


def _unique(keys: Iterable[MasterKey]) -> list[MasterKey]:
    seen: dict[str, MasterKey] = {}
    for key in keys:
        seen.setdefault(key.key_id, key)
    return list(seen.values())


def check_key_file_mode(path: Path) -> None:
    """Refuse a key file that anyone but its owner could read or change."""
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise MasterKeyError(
            f"the key file {path} is accessible by group or others (mode {mode:04o}); "
            f"make it private with: chmod 600 '{path}'"
        )


def read_key_file(path: Path) -> Keyring:
    try:
        check_key_file_mode(path)
        raw = path.read_text(encoding="utf-8")
    except OSError as error:
        raise MasterKeyError(f"cannot read the key file {path}: {error.strerror}") from None
    try:
        data = json.loads(raw)
        items = data["keys"]
        if data.get("version") != _FORMAT_VERSION or not isinstance(items, list) or not items:
            raise ValueError
        keys = [
            dataclasses.replace(
                decode_key(item["key"], f"key {index + 1} in {path}"),
                retired=index > 0 and item.get("retired") is True,
            )
            for index, item in enumerate(items)
        ]
    except (ValueError, KeyError, TypeError):
        raise MasterKeyError(
            f"the key file {path} is not a projdeck key file (expected JSON with a 'keys' list)"
        ) from None
    return Keyring(keys=tuple(_unique(keys)), path=path)


def _serialize(keys: Iterable[MasterKey]) -> bytes:
    data = {
        "version": _FORMAT_VERSION,
        "note": "projdeck master keys: the first encrypts, the others only decrypt "
        "(retired ones were replaced by a rotation and read older backups). Keep private.",
        "written_at": utcnow().isoformat(timespec="seconds"),
        "keys": [
            {"id": key.key_id, "key": encode_key(key.material)}
            | ({"retired": True} if key.retired else {})
            for key in keys
        ],
    }
    return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def _private_temp_file(folder: Path, content: bytes) -> Path:
    """A new file with ``content`` and mode 0600 from the start, flushed to disk."""
    # mkstemp creates the file readable by its owner only (0600).
    descriptor, name = tempfile.mkstemp(prefix=".keys-", suffix=".tmp", dir=folder)
    try:
        os.write(descriptor, content)
        os.fsync(descriptor)
    except BaseException:
        os.close(descriptor)
        Path(name).unlink(missing_ok=True)
        raise
    os.close(descriptor)
    return Path(name)


def _create_key_file(path: Path) -> Keyring:
    """Write a fresh key file, unless another process made one first (then use it)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = new_key()
        temporary = _private_temp_file(path.parent, _serialize([key]))
        try:
            # link() fails if the file exists, so two first runs agree on one key.
            os.link(temporary, path)
        except FileExistsError:
            return read_key_file(path)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as error:
        raise MasterKeyError(f"cannot create the key file {path}: {error.strerror}") from None
    return Keyring(keys=(key,), path=path)


def write_key_file(path: Path, keys: Iterable[MasterKey]) -> Keyring:
    """Replace the key file atomically: a crash leaves the old or the new one."""
    ordered = tuple(_unique(keys))
    try:
        temporary = _private_temp_file(path.parent, _serialize(ordered))
        try:
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        sync_folder(path.parent)
    except OSError as error:
        raise MasterKeyError(f"cannot write the key file {path}: {error.strerror}") from None
    return Keyring(keys=ordered, path=path)


@contextlib.asynccontextmanager
async def rotation_turn(path: Path | None) -> AsyncIterator[None]:
    """Hold the lock beside the key file ``path`` that makes key rotations
    take turns, waiting while another process (or task) holds it; nothing
    for keys from the environment, which projdeck does not write."""
    if path is None or os.name != "posix":
        yield
        return
    import fcntl

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path.with_name(f"{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise MasterKeyError(f"cannot lock the key file {path}: {error.strerror}") from None
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # Polled rather than waited for in a thread, so a cancelled
                # rotation never takes the lock after it has gone.
                await asyncio.sleep(0.05)
        yield
    finally:
        os.close(descriptor)


def associated_data(project_id: uuid.UUID, key_name: str, key_id: str) -> bytes:
    """What a ciphertext is bound to: moved to another row, it fails to decrypt."""
    return b"\x00".join(
        [_AAD_PREFIX, str(project_id).encode(), key_name.encode("utf-8"), key_id.encode()]
    )


@dataclass(frozen=True)
class Sealed:
    nonce: bytes
    ciphertext: bytes = field(repr=False)
    key_id: str


def encrypt(key: MasterKey, project_id: uuid.UUID, key_name: str, value: SecretValue) -> Sealed:
    # cryptography loads where a secret is sealed or opened, not at start-up.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key.material).encrypt(
        nonce, value.reveal().encode("utf-8"), associated_data(project_id, key_name, key.key_id)
    )
    return Sealed(nonce=nonce, ciphertext=ciphertext, key_id=key.key_id)


def decrypt(
    keyring: Keyring,
    project_id: uuid.UUID,
    key_name: str,
    sealed: Sealed,
    *,
    label: str,
) -> SecretValue:
    """The plaintext of ``sealed``; DecryptionFailed (naming ``label``) when the
    key is unknown or wrong, or the ciphertext or its row was tampered with."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = keyring.get(sealed.key_id)
    if key is None:
        raise DecryptionFailed(
            f"cannot decrypt {label}: it was encrypted with key {sealed.key_id}, which is not "
            f"among the keys in {keyring.source} (wrong key file or {SECRET_KEY_ENV}?)"
        )
    try:
        plain = AESGCM(key.material).decrypt(
            sealed.nonce, sealed.ciphertext, associated_data(project_id, key_name, key.key_id)
        )
        return SecretValue(plain.decode("utf-8"))
    except (InvalidTag, ValueError, TypeError, UnicodeDecodeError):
        # TypeError: a nonce or ciphertext that is not bytes (a hand-edited row).
        raise DecryptionFailed(
            f"cannot decrypt {label} with key {key.key_id}: the ciphertext does not authenticate "
            "(it was altered, or copied from another row or project)"
        ) from None
