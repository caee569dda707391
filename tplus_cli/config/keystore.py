"""Where signing keys live. The ONLY module that imports keyring (lazily, on demand).

Metadata (name, public key, storage, creation time; never a secret) is in
config_dir()/keys.toml. The secret (the 32-byte Ed25519 seed) is stored by one of:

- "keyring": the OS keyring, service "tplus", username = key name, value = seed hex.
- "encrypted-file": config_dir()/keys/<name>.key, JSON with an Argon2id-derived key
  (nacl.pwhash.argon2id) sealing the seed with XSalsa20-Poly1305 (nacl.secret.SecretBox);
  mode 0600. The passphrase comes from $TPLUS_PASSPHRASE_FILE or a hidden prompt.
- "paper-file": config_dir()/keys/<name>.paper, the seed hex in a 0600 file with no
  passphrase; only for the auto-created paper key of a local venue with no keyring.

The keyring is used when a real backend exists (not keyring's fail/null backends, nor a
chainer with nothing in it). TPLUS_KEYSTORE=file forces files; =keyring demands a keyring.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tplus_cli.config import envvars, paths
from tplus_cli.errors import AuthError, ConfigError, UsageError

Storage = Literal["keyring", "encrypted-file", "paper-file"]
SERVICE = "tplus"
KEYS_FILE = "keys.toml"
FILE_FORMAT = "tplus-key/1"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Passphrase prompt: (prompt text, ask twice?) -> passphrase.
Prompt = Callable[[str, bool], str]


@dataclass(frozen=True)
class KeyRecord:
    """Public facts about one key (what `keys list` shows)."""

    name: str
    public_key: str
    storage: Storage
    created_at: str


def public_key_of(seed: bytes) -> str:
    """Hex Ed25519 public key of a 32-byte seed."""
    from nacl.signing import SigningKey

    return bytes(SigningKey(seed).verify_key).hex()


def check_key_name(name: str) -> str:
    """Key names: letters, digits, '_', '.', '-', starting alphanumeric (they become file names)."""
    if not _NAME_RE.match(name):
        raise UsageError(
            f"key name {name!r}: use letters, digits, '_', '.', '-' (start with a letter or digit)"
        )
    return name


class KeyStore:
    """Create, list, load and delete keys; secrets never leave this class except as bytes."""

    def __init__(self, config_dir: Path, *, prompt: Prompt | None = None) -> None:
        self.config_dir = config_dir
        self.meta_path = config_dir / KEYS_FILE
        self.keys_dir = config_dir / "keys"
        self._prompt = prompt
        self._keyring_ok: bool | None = None

    # --- metadata ------------------------------------------------------------------------

    def _read_meta(self) -> dict[str, dict[str, Any]]:
        if not self.meta_path.exists():
            return {}
        try:
            with self.meta_path.open("rb") as fh:
                raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{self.meta_path}: {exc}") from None
        for name, table in raw.items():
            ok = (
                isinstance(table, dict)
                and isinstance(table.get("public_key"), str)
                and table.get("storage") in ("keyring", "encrypted-file", "paper-file")
            )
            if not ok:
                raise ConfigError(f"{self.meta_path}: [{name}]: needs public_key and storage")
        return raw

    def _write_meta(self, meta: dict[str, dict[str, Any]]) -> None:
        import tomli_w

        paths.write_private(self.meta_path, tomli_w.dumps(meta).encode())

    def list(self) -> list[KeyRecord]:
        """Every key's public record, sorted by name."""
        return [self._record(n, t) for n, t in sorted(self._read_meta().items())]

    @staticmethod
    def _record(name: str, table: dict[str, Any]) -> KeyRecord:
        return KeyRecord(
            name=name,
            public_key=table["public_key"],
            storage=table["storage"],
            created_at=str(table.get("created_at", "")),
        )

    def has(self, name: str) -> bool:
        """Whether a key of this name exists."""
        return name in self._read_meta()

    def get(self, name: str) -> KeyRecord:
        """The public record of `name`; unknown -> AuthError (exit 4) with a hint."""
        meta = self._read_meta()
        if name not in meta:
            known = ", ".join(sorted(meta)) or "none yet"
            raise AuthError(
                f"no key named {name!r} (keys: {known})",
                hint="tplus keys new NAME, or tplus keys import NAME",
            )
        return self._record(name, meta[name])

    # --- storage backends ----------------------------------------------------------------

    def keyring_usable(self) -> bool:
        """Whether a real OS keyring backend is available (looked up once, lazily)."""
        if self._keyring_ok is None:
            mode = os.environ.get(envvars.KEYSTORE, "auto").strip().lower() or "auto"
            if mode not in ("auto", "keyring", "file"):
                raise ConfigError(f"{envvars.KEYSTORE}={mode!r}: must be auto, keyring or file")
            self._keyring_ok = False if mode == "file" else _backend_is_real()
            if mode == "keyring" and not self._keyring_ok:
                raise AuthError(
                    f"{envvars.KEYSTORE}=keyring but no usable keyring backend is available",
                    hint=f"unset {envvars.KEYSTORE} to use an encrypted key file instead",
                )
        return self._keyring_ok

    def _passphrase(self, *, new: bool) -> bytes:
        path = os.environ.get(envvars.PASSPHRASE_FILE, "").strip()
        if path:
            try:
                text = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise AuthError(
                    f"{envvars.PASSPHRASE_FILE}: cannot read {path}: {exc.strerror}"
                ) from None
        elif self._prompt is not None:
            text = self._prompt("New key passphrase" if new else "Key passphrase", new)
        else:
            raise AuthError(
                "the key is in an encrypted file and no passphrase is available",
                hint=f"set {envvars.PASSPHRASE_FILE} or run on a terminal",
            )
        if not text:
            raise AuthError("empty passphrase")
        return text.encode("utf-8")

    def _file(self, name: str, storage: Storage) -> Path:
        return self.keys_dir / (f"{name}.key" if storage == "encrypted-file" else f"{name}.paper")

    def _store_secret(self, name: str, seed: bytes, storage: Storage) -> None:
        if storage == "keyring":
            import keyring
            from keyring.errors import KeyringError

            try:
                existing = keyring.get_password(SERVICE, name)
                if existing is not None and existing != seed.hex():
                    # The keyring is per OS user, not per config dir: never overwrite a secret.
                    raise AuthError(
                        f"the OS keyring already holds a different tplus key named {name!r} "
                        "(from another config dir?); refusing to overwrite it",
                        hint="pick another name",
                    )
                keyring.set_password(SERVICE, name, seed.hex())
            except KeyringError as exc:
                raise AuthError(
                    f"keyring refused to store key {name!r}: {exc}",
                    hint=f"unlock the keyring, or set {envvars.KEYSTORE}=file",
                ) from None
        elif storage == "encrypted-file":
            paths.write_private(self._file(name, storage), _seal(seed, self._passphrase(new=True)))
        else:
            paths.write_private(self._file(name, storage), (seed.hex() + "\n").encode())

    def load_seed(self, name: str) -> bytes:
        """The 32-byte seed of `name` (may prompt for the passphrase of an encrypted file)."""
        record = self.get(name)
        if record.storage == "keyring":
            import keyring
            from keyring.errors import KeyringError

            try:
                value = keyring.get_password(SERVICE, name)
            except KeyringError as exc:
                raise AuthError(f"keyring unavailable: {exc}", hint="unlock the keyring") from None
            if value is None:
                raise AuthError(
                    f"key {name!r} is listed but missing from the keyring",
                    hint=f"tplus keys delete {name} --yes, then import it again",
                )
            seed = bytes.fromhex(value)
        else:
            path = self._file(name, record.storage)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise AuthError(f"cannot read key file {path}: {exc.strerror}") from None
            if record.storage == "encrypted-file":
                seed = _open(data, self._passphrase(new=False), path)
            else:
                seed = bytes.fromhex(data.decode().strip())
        if public_key_of(seed) != record.public_key:
            raise AuthError(f"key {name!r}: stored secret does not match its public key")
        return seed

    # --- lifecycle -----------------------------------------------------------------------

    def create(self, name: str, seed: bytes, *, paper: bool = False) -> KeyRecord:
        """Store a new key: keyring if usable, else paper-file (paper) or encrypted-file."""
        check_key_name(name)
        if len(seed) != 32:
            raise UsageError("a key seed is 32 bytes")
        meta = self._read_meta()
        if name in meta:
            raise UsageError(f"a key named {name!r} already exists", hint="pick another name")
        storage: Storage
        if self.keyring_usable():
            storage = "keyring"
        else:
            storage = "paper-file" if paper else "encrypted-file"
        self._store_secret(name, seed, storage)
        created = datetime.now(UTC).replace(microsecond=0).isoformat()
        meta[name] = {"public_key": public_key_of(seed), "storage": storage, "created_at": created}
        self._write_meta(meta)
        return self._record(name, meta[name])

    def create_paper(self, name: str) -> KeyRecord:
        """Generate the local venue's paper key (keyring if available, else a 0600 file).

        A paper key already in the keyring (another config dir made it) is adopted rather than
        replaced: it only ever holds paper money, and keeping it keeps one paper identity.
        """
        seed = os.urandom(32)
        if self.keyring_usable():
            import keyring
            from keyring.errors import KeyringError

            try:
                existing = keyring.get_password(SERVICE, name)
            except KeyringError:
                existing = None
            if existing is not None:
                seed = bytes.fromhex(existing)
        return self.create(name, seed, paper=True)

    def delete(self, name: str) -> KeyRecord:
        """Remove the secret and the metadata of `name`."""
        record = self.get(name)
        if record.storage == "keyring":
            import keyring
            from keyring.errors import KeyringError, PasswordDeleteError

            try:
                keyring.delete_password(SERVICE, name)
            except PasswordDeleteError:
                pass  # already gone: deleting is idempotent
            except KeyringError as exc:
                raise AuthError(f"keyring unavailable: {exc}", hint="unlock the keyring") from None
        else:
            self._file(name, record.storage).unlink(missing_ok=True)
        meta = self._read_meta()
        meta.pop(name, None)
        self._write_meta(meta)
        return record


def _backend_is_real() -> bool:
    import keyring
    from keyring.backends import chainer, fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    return not (isinstance(backend, chainer.ChainerBackend) and not backend.backends)


def _seal(seed: bytes, passphrase: bytes) -> bytes:
    """Encrypt `seed`: Argon2id(passphrase, salt) -> SecretBox (XSalsa20-Poly1305)."""
    from nacl import pwhash, secret, utils

    ops, mem = pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_INTERACTIVE
    salt = utils.random(pwhash.argon2id.SALTBYTES)
    key = pwhash.argon2id.kdf(
        secret.SecretBox.KEY_SIZE, passphrase, salt, opslimit=ops, memlimit=mem
    )
    box = bytes(secret.SecretBox(key).encrypt(seed))
    doc = {
        "format": FILE_FORMAT,
        "kdf": {"name": "argon2id", "opslimit": ops, "memlimit": mem, "salt": salt.hex()},
        "cipher": "xsalsa20-poly1305",
        "box": box.hex(),
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


def _open(data: bytes, passphrase: bytes, path: Path) -> bytes:
    """Decrypt an encrypted key file; a wrong passphrase is an AuthError (exit 4)."""
    from nacl import exceptions, pwhash, secret

    try:
        doc = json.loads(data)
        kdf = doc["kdf"]
        if doc.get("format") != FILE_FORMAT or kdf.get("name") != "argon2id":
            raise ValueError("unknown format")
        key = pwhash.argon2id.kdf(
            secret.SecretBox.KEY_SIZE,
            passphrase,
            bytes.fromhex(kdf["salt"]),
            opslimit=int(kdf["opslimit"]),
            memlimit=int(kdf["memlimit"]),
        )
        box = bytes.fromhex(doc["box"])
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthError(f"{path}: not a tplus key file ({exc})") from None
    try:
        return bytes(secret.SecretBox(key).decrypt(box))
    except exceptions.CryptoError:
        raise AuthError(f"{path}: wrong passphrase") from None
