"""`tplus keys` across storage backends: in-memory keyring, encrypted file, real Secret Service."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import pytest
from keyring.backends import fail

from tplus_cli.client import signing

if TYPE_CHECKING:
    from cli.conftest import Tplus

SEED_HEX = "01" * 32
# The Secret Service is shared by parallel test workers, so names are unique per process.
RUN = uuid.uuid4().hex[:8]
IMPORTED, FRESH = f"imported-{RUN}", f"fresh-{RUN}"
PUB = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"


def _secret_service_or_skip() -> None:
    if os.environ.get("TPLUS_TEST_SECRET_SERVICE") != "1":
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the Secret Service test: run it through scripts/test")
        pytest.skip("needs a Secret Service: run through scripts/test (dbus-run-session)")


@pytest.fixture(
    params=["keyring", "encrypted-file", pytest.param("secret-service", marks=pytest.mark.keyring)]
)
def backend(
    request: pytest.FixtureRequest, sealed_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Each storage backend a user can end up with; yields the storage name `keys list` shows."""
    if request.param == "encrypted-file":
        keyring.set_keyring(fail.Keyring())
        passfile = sealed_env / "passphrase"
        passfile.write_text("correct horse battery\n")
        monkeypatch.setenv("TPLUS_PASSPHRASE_FILE", str(passfile))
        yield "encrypted-file"
    elif request.param == "secret-service":
        _secret_service_or_skip()
        from keyring.backends import SecretService

        real = SecretService.Keyring()
        keyring.set_keyring(real)
        yield "keyring"
        for name in (IMPORTED, FRESH):  # leave the session keyring as we found it
            try:
                real.delete_password("tplus", name)
            except keyring.errors.PasswordDeleteError:
                pass
    else:
        yield "keyring"


def test_key_lifecycle(tplus: Tplus, backend: str, sealed_env: Path) -> None:
    """import (stdin) -> list/show (public only) -> sign -> export -> delete, on every backend."""
    r = tplus(f"keys import {IMPORTED} -o json", input=SEED_HEX + "\n")
    assert r.exit_code == 0, r.stderr
    assert r.json()["public_key"] == PUB and r.json()["storage"] == backend
    assert SEED_HEX not in r.stdout + r.stderr

    listed = tplus("keys list -o json").json()
    assert [(k["name"], k["public_key"], k["storage"]) for k in listed] == [
        (IMPORTED, PUB, backend)
    ]
    assert tplus(f"keys show {IMPORTED} -o json --fields public_key").json() == {"public_key": PUB}

    sig = tplus(f"--key {IMPORTED} keys sign 'a b' -o table")
    assert sig.exit_code == 0, sig.stderr
    sig_bytes = bytes.fromhex(sig.stdout.strip())
    assert signing.verify(PUB, b"ab", list(sig_bytes))  # strip_ws: "a b" signs as "ab"
    assert tplus(f"--key {IMPORTED} keys sign -o table", input="a\nb\n").stdout == sig.stdout

    exported = tplus(f"keys export {IMPORTED} --yes -o table")
    assert exported.stdout == SEED_HEX + "\n"

    assert tplus(f"keys delete {IMPORTED} --yes").exit_code == 0
    assert tplus("keys list -o json").json() == []
    if backend == "keyring":
        assert keyring.get_password("tplus", IMPORTED) is None
    assert not list((sealed_env / "config" / "keys").glob(f"{IMPORTED}*"))


def test_new_and_use(tplus: Tplus, backend: str) -> None:
    """`keys new` makes a fresh key; `keys use` points the current profile at it."""
    r = tplus(f"keys new {FRESH} -o json")
    assert r.exit_code == 0, r.stderr
    created = r.json()
    assert len(created["public_key"]) == 64 and created["storage"] == backend
    assert tplus(f"keys use {FRESH}").exit_code == 0
    shown = tplus("profile show -o json").json()
    assert shown["key"] == FRESH
    assert tplus("keys list -o json").json()[0]["in_use"] is True
    signed = tplus("keys sign hello -o json").json()
    assert signed["public_key"] == created["public_key"]
    assert tplus(f"keys delete {FRESH} --yes").exit_code == 0


def test_import_rejects_bad_input_without_echoing_it(tplus: Tplus) -> None:
    """A malformed secret is a usage error (exit 2) whose message does not repeat the input."""
    r = tplus("keys import k -o table", input="zz" + "ab" * 31 + "\n")
    assert r.exit_code == 2
    assert "ab" * 31 not in r.stderr
    assert r.stderr.startswith("Error: private key")


def test_import_from_tpluspy_keyfile(tplus: Tplus, tmp_path: Path) -> None:
    """--from-tpluspy decrypts the official keyfile with TPLUS_PASSWORD."""
    from tplus_cli.client.keyfile import encrypt_keyfile

    path = tmp_path / "alice"
    path.write_text(encrypt_keyfile(bytes.fromhex(SEED_HEX), "hunter2"))
    r = tplus(f"keys import alice --from-tpluspy {path} -o json", env={"TPLUS_PASSWORD": "hunter2"})
    assert r.exit_code == 0, r.stderr
    assert r.json()["public_key"] == PUB
    bad = tplus(f"keys import bob --from-tpluspy {path} -o table", env={"TPLUS_PASSWORD": "nope"})
    assert bad.exit_code == 4


def test_export_and_delete_refuse_without_yes(tplus: Tplus) -> None:
    """Not on a TTY, export/delete need --yes (exit 2 with a hint) and do nothing."""
    tplus("keys import k", input=SEED_HEX)
    for cmd in ("keys export k -o table", "keys delete k -o table"):
        r = tplus(cmd)
        assert r.exit_code == 2
        assert "Hint: pass --yes" in r.stderr
        assert SEED_HEX not in r.stdout
    assert len(tplus("keys list -o json").json()) == 1


def test_confirm_on_a_tty(tplus: Tplus, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a TTY, delete asks; "n" cancels (exit 1), "y" deletes."""
    tplus("keys import k", input=SEED_HEX)
    monkeypatch.setattr("tplus_cli.render.console.stdin_isatty", lambda: True)
    assert tplus("keys delete k -o table", input="n\n").exit_code == 1
    assert len(tplus("keys list -o json").json()) == 1
    assert tplus("keys delete k -o table", input="y\n").exit_code == 0
    assert tplus("keys list -o json").json() == []


@pytest.mark.parametrize(("keyring_ok", "storage"), [(True, "keyring"), (False, "paper-file")])
def test_fresh_machine_paper_key(tplus: Tplus, keyring_ok: bool, storage: str) -> None:
    """The first signing command on the local venue creates "paper", saying so once on stderr."""
    if not keyring_ok:
        keyring.set_keyring(fail.Keyring())
    first = tplus("keys sign hi -o table")
    assert first.exit_code == 0, first.stderr
    assert first.stderr.startswith("Created paper key 'paper'")
    assert len(first.stderr.splitlines()) == 1
    second = tplus("keys sign hi -o table")
    assert (second.stdout, second.stderr) == (first.stdout, "")
    assert tplus("keys list -o json").json()[0]["storage"] == storage
    assert tplus("-q keys show paper -o json").exit_code == 0


def test_no_key_on_a_remote_profile(tplus: Tplus) -> None:
    """Off the paper venue, no key is invented: signing is an auth error (exit 4)."""
    r = tplus("--profile remote-example keys sign hi -o table")
    assert r.exit_code == 4
    assert "no signing key" in r.stderr


def test_no_secret_in_plaintext_and_modes(tplus: Tplus, backend: str, sealed_env: Path) -> None:
    """After a session, no file in the config or data dirs holds a secret; modes are 0600/0700."""
    seeds = [SEED_HEX]
    tplus(f"keys import {IMPORTED}", input=SEED_HEX)
    tplus(f"keys new {FRESH}")
    tplus(f"--key {FRESH} keys sign x -o table")
    seeds.append(tplus(f"keys export {FRESH} --yes -o table").stdout.strip())
    tplus(f"profile add stage --endpoint https://stage.example --key {FRESH}")
    tplus(f"keys use {IMPORTED}")
    venue = tplus(f"--key {FRESH} balances -o json")  # signs in to the embedded venue (data dir)
    assert venue.exit_code == 0, venue.stderr
    checked = 0
    for base in (sealed_env / "config", sealed_env / "data"):
        for path in base.rglob("*") if base.exists() else []:
            mode = stat.S_IMODE(path.stat().st_mode)
            if path.is_dir():
                if base.name == "config":
                    assert mode == 0o700, path
                continue
            data = path.read_bytes()
            for seed in seeds:
                assert seed.encode() not in data, path
                assert bytes.fromhex(seed) not in data, path
            if base.name == "config":
                assert mode == 0o600, path
            checked += 1
    assert checked >= 3  # keys.toml, profiles.toml and the venue store at least
    for name in (IMPORTED, FRESH):
        tplus(f"keys delete {name} --yes")
