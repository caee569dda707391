"""config/keystore: keyring vs encrypted-file vs paper-file storage, and what lands on disk."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from tplus_cli.config.keystore import KeyStore, public_key_of
from tplus_cli.errors import AuthError, ExitCode, UsageError

SEED = bytes(range(32))
PUB_01 = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"


@pytest.fixture
def no_keyring() -> None:
    """Install keyring's own "no backend" (what headless Linux without D-Bus gets)."""
    keyring.set_keyring(fail.Keyring())


@pytest.fixture
def passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A passphrase file as cron would use it."""
    f = tmp_path / "pass"
    f.write_text("correct horse\n")
    monkeypatch.setenv("TPLUS_PASSPHRASE_FILE", str(f))
    return "correct horse"


def test_public_key_matches_spec_vector() -> None:
    """Seed 01*32 has the account id from spec §2.1."""
    assert public_key_of(b"\x01" * 32) == PUB_01


def test_keyring_storage(tmp_path: Path) -> None:
    """With a keyring, the seed goes there (service tplus, username = name); metadata has no secret."""
    store = KeyStore(tmp_path)
    rec = store.create("main", SEED)
    assert rec.storage == "keyring"
    assert keyring.get_password("tplus", "main") == SEED.hex()
    assert store.load_seed("main") == SEED
    assert SEED.hex() not in (tmp_path / "keys.toml").read_text()
    store.delete("main")
    assert keyring.get_password("tplus", "main") is None
    assert store.list() == []


def test_encrypted_file_fallback(tmp_path: Path, no_keyring: None, passphrase: str) -> None:
    """Without a backend the seed is sealed with Argon2id + SecretBox in a 0600 file."""
    store = KeyStore(tmp_path)
    rec = store.create("main", SEED)
    assert rec.storage == "encrypted-file"
    path = tmp_path / "keys" / "main.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["kdf"]["name"] == "argon2id" and doc["cipher"] == "xsalsa20-poly1305"
    assert SEED.hex() not in path.read_text()
    assert store.load_seed("main") == SEED


def test_wrong_passphrase(
    tmp_path: Path, no_keyring: None, passphrase: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong passphrase is an AuthError (exit 4), not a crash."""
    store = KeyStore(tmp_path)
    store.create("main", SEED)
    other = tmp_path / "other"
    other.write_text("wrong\n")
    monkeypatch.setenv("TPLUS_PASSPHRASE_FILE", str(other))
    with pytest.raises(AuthError, match="wrong passphrase") as info:
        store.load_seed("main")
    assert info.value.exit_code == ExitCode.AUTH


def test_prompt_used_without_passphrase_file(tmp_path: Path, no_keyring: None) -> None:
    """With no TPLUS_PASSPHRASE_FILE the prompt callback is asked (twice-confirm on create)."""
    asked: list[tuple[str, bool]] = []

    def prompt(text: str, confirm: bool) -> str:
        asked.append((text, confirm))
        return "pw"

    store = KeyStore(tmp_path, prompt=prompt)
    store.create("k", SEED)
    assert store.load_seed("k") == SEED
    assert asked == [("New key passphrase", True), ("Key passphrase", False)]


def test_no_passphrase_source_is_auth_error(tmp_path: Path, no_keyring: None) -> None:
    """No file and no prompt: a clear AuthError naming TPLUS_PASSPHRASE_FILE."""
    with pytest.raises(AuthError) as info:
        KeyStore(tmp_path).create("k", SEED)
    assert "TPLUS_PASSPHRASE_FILE" in (info.value.hint or "")


def test_paper_file_without_keyring(tmp_path: Path, no_keyring: None) -> None:
    """The auto paper key falls back to a 0600 plaintext file (no passphrase)."""
    store = KeyStore(tmp_path)
    rec = store.create_paper("paper")
    assert rec.storage == "paper-file"
    path = tmp_path / "keys" / "paper.paper"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_of(store.load_seed("paper")) == rec.public_key


def test_force_file_mode(tmp_path: Path, passphrase: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """TPLUS_KEYSTORE=file skips the keyring even when one exists."""
    monkeypatch.setenv("TPLUS_KEYSTORE", "file")
    assert KeyStore(tmp_path).create("k", SEED).storage == "encrypted-file"
    assert keyring.get_password("tplus", "k") is None


def test_demand_keyring_without_one(
    tmp_path: Path, no_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TPLUS_KEYSTORE=keyring with no backend is an AuthError, not a silent file."""
    monkeypatch.setenv("TPLUS_KEYSTORE", "keyring")
    with pytest.raises(AuthError, match="no usable keyring"):
        KeyStore(tmp_path).create("k", SEED)


def test_names_and_duplicates(tmp_path: Path) -> None:
    """Names become file names, so they are restricted; duplicates are refused."""
    store = KeyStore(tmp_path)
    with pytest.raises(UsageError):
        store.create("../evil", SEED)
    store.create("a", SEED)
    with pytest.raises(UsageError, match="already exists"):
        store.create("a", SEED)
    with pytest.raises(AuthError, match="no key named 'zz'"):
        store.get("zz")


def test_tampered_metadata_detected(tmp_path: Path) -> None:
    """A keys.toml whose public key does not match the stored secret is refused."""
    store = KeyStore(tmp_path)
    store.create("a", SEED)
    meta = tmp_path / "keys.toml"
    meta.write_text(meta.read_text().replace(public_key_of(SEED), PUB_01))
    with pytest.raises(AuthError, match="does not match"):
        store.load_seed("a")


def test_never_overwrites_a_keyring_secret(tmp_path: Path) -> None:
    """The keyring is shared by every config dir of the OS user: a clash is refused."""
    KeyStore(tmp_path / "one").create("main", SEED)
    other = KeyStore(tmp_path / "two")
    with pytest.raises(AuthError, match="already holds a different tplus key"):
        other.create("main", b"\x07" * 32)
    assert keyring.get_password("tplus", "main") == SEED.hex()
    assert other.create("main", SEED).public_key == public_key_of(SEED)  # same secret: fine


def test_paper_key_is_adopted_from_the_keyring(tmp_path: Path) -> None:
    """A second config dir reuses the paper key already in the keyring."""
    first = KeyStore(tmp_path / "one").create_paper("paper")
    second = KeyStore(tmp_path / "two").create_paper("paper")
    assert second.public_key == first.public_key
