"""Seal keys: made right, checked against the store, rotated; SQL parameters stay hidden."""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import stat
import traceback
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot import admin
from bot.cli import main
from bot.config import Settings
from bot.keys import Keys, WeakKey, new_key
from simulator.demo import demo_seal_key
from storage.db import Database, open_database
from storage.keychecks import CANARY, KeyMismatch, verify_store_key
from storage.models import Delivery, KeyCheck, Tip, User
from tests.conftest import TEST_SEAL_KEY

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OLD, NEW, OTHER = new_key(), new_key(), new_key()
EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "pingan.env.example"


def shipped_example() -> str:
    match = re.search(r"^PINGAN_SEAL_KEY=(.*)$", EXAMPLE.read_text(encoding="utf-8"), re.M)
    assert match is not None
    return match[1].strip()


# -- making and checking keys ---------------------------------------------------------------


def test_new_key_is_32_random_bytes_in_unpadded_urlsafe_base64() -> None:
    made = [new_key() for _ in range(500)]
    assert len(set(made)) == len(made)
    seen: set[int] = set()
    for key in made:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key)
        raw = base64.urlsafe_b64decode(key + "=")
        assert len(raw) == 32
        seen.update(raw)
        Keys.from_setting(key)  # every key it makes passes the checks
    assert len(seen) == 256  # 16 000 random bytes cover every value


def test_the_shipped_example_is_empty_and_refused() -> None:
    assert shipped_example() == ""
    assert "pingan keys new" in EXAMPLE.read_text(encoding="utf-8")
    with pytest.raises(WeakKey, match="PINGAN_SEAL_KEY is empty"):
        Keys.from_setting(shipped_example())


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("change-me-to-a-long-random-secret", "published example"),
        ("test-seal-key-0123456789", "decodes to 18 bytes, needs 32"),
        ("demo-seal-key-not-for-production", "needs 32"),
        (NEW[:30], "decodes to 22 bytes, needs 32"),
        ("A" * 43, "not random"),
        ("ab" * 22, "not random"),
        ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "not random"),
        ("passwordpasswordpasswordpasswordpassword1234", "not random"),
        ("0123456789" * 5, "not random"),
        (f"{NEW}!", "not base64"),
        ("密钥" * 30, "not base64"),
    ],
)
def test_weak_keys_are_refused_without_showing_them(value: str, problem: str) -> None:
    with pytest.raises(WeakKey) as caught:
        Keys.from_setting(value)
    message = str(caught.value)
    assert message.startswith("PINGAN_SEAL_KEY")
    assert problem in message
    assert value not in message
    assert "pingan keys new" in message


def test_a_weak_key_in_a_list_is_named_by_position_and_setting() -> None:
    with pytest.raises(WeakKey) as caught:
        Keys.from_setting(f"{NEW}, {'A' * 43}", setting="X_KEY")
    assert str(caught.value).startswith("X_KEY (key 2 of 2) is not random")
    with pytest.raises(WeakKey, match=r"\(key 2 of 2\) is empty"):
        Keys.from_setting(f"{NEW},")


def test_duplicate_keys_are_refused_even_spelled_differently() -> None:
    padded = NEW + "="
    standard = NEW.replace("-", "+").replace("_", "/")
    for value in (f"{NEW},{NEW}", f"{NEW},{OLD},{padded}", f"{standard},{NEW}"):
        with pytest.raises(WeakKey, match="repeats key") as caught:
            Keys.from_setting(value)
        assert NEW not in str(caught.value)
        assert OLD not in str(caught.value)
    # The spellings are one key: each alone reads what the others sealed.
    assert Keys.from_setting(standard).unseal(Keys.from_setting(padded).seal("x")) == "x"


def test_keys_never_show_in_repr() -> None:
    assert NEW not in repr(Keys.from_setting(NEW))


# -- sealing, hashing, rotating -------------------------------------------------------------


def test_seal_round_trip_and_a_fresh_token_every_time() -> None:
    keys = Keys.from_setting(NEW)
    openid = "oAbC-123_私"
    first, second = keys.seal(openid), keys.seal(openid)
    assert first != second
    assert keys.unseal(first) == keys.unseal(second) == openid
    assert openid not in first
    assert keys.unseal("not a token") is None
    assert keys.unseal("") is None
    assert Keys.from_setting(OTHER).unseal(first) is None


def test_mac_is_keyed_and_domain_separated() -> None:
    keys = Keys.from_setting(NEW)
    dedup, user = keys.mac("dedup", "o-1"), keys.mac("user", "o-1")
    assert re.fullmatch(r"[0-9a-f]{64}", dedup)
    assert dedup != user
    assert keys.mac("dedup", "o-1") == dedup
    assert keys.mac("dedup", "o-2") != dedup
    assert Keys.from_setting(OTHER).mac("dedup", "o-1") != dedup
    # The newest key hashes: older keys in the list change nothing.
    assert Keys.from_setting(f"{NEW},{OLD}").mac("dedup", "o-1") == dedup


def test_log_salt_is_derived_per_key() -> None:
    salt = Keys.from_setting(NEW).log_salt
    assert re.fullmatch(r"[0-9a-f]{64}", salt)
    assert Keys.from_setting(NEW).log_salt == salt
    assert Keys.from_setting(OTHER).log_salt != salt
    settings = Settings(_env_file=None, seal_key=NEW)  # type: ignore[call-arg]
    assert settings.effective_log_salt == salt
    assert Settings(
        _env_file=None,  # type: ignore[call-arg]
        seal_key=NEW,
        log_salt="set-by-the-operator-0123",
    ).effective_log_salt == ("set-by-the-operator-0123")


def test_rotation_old_tokens_readable_until_rotated() -> None:
    token = Keys.from_setting(OLD).seal("o-reporter")
    both = Keys.from_setting(f"{NEW},{OLD}")
    new_only = Keys.from_setting(NEW)
    assert both.unseal(token) == "o-reporter"
    assert not both.newest_seals(token)
    assert new_only.unseal(token) is None
    rotated = both.rotate(token)
    assert both.newest_seals(rotated)
    assert new_only.unseal(rotated) == "o-reporter"
    # The newest key seals.
    assert new_only.unseal(both.seal("x")) == "x"


# -- settings -------------------------------------------------------------------------------


def wechat_settings(**values: str) -> Settings:
    base = {"wechat_token": "t", "wechat_appid": "wx1", "wechat_secret": "s", "seal_key": NEW}
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "value", ["change-me-to-a-long-random-secret", "A" * 43, f"{NEW},{NEW}", "short"]
)
def test_serve_refuses_a_weak_seal_key(value: str) -> None:
    with pytest.raises(SystemExit) as caught:
        wechat_settings(seal_key=value).require_wechat()
    assert str(caught.value).startswith("PINGAN_SEAL_KEY")
    assert value not in str(caught.value)


def test_serve_refuses_the_example_file_and_public_log_salts() -> None:
    with pytest.raises(SystemExit, match="missing required settings: PINGAN_SEAL_KEY"):
        wechat_settings(seal_key=shipped_example()).require_wechat()
    for salt in ("pingan", "change-me"):
        with pytest.raises(SystemExit, match="PINGAN_LOG_SALT"):
            wechat_settings(log_salt=salt).require_wechat()
    wechat_settings().require_wechat()
    wechat_settings(seal_key=f"{NEW}, {OLD}", log_salt="a-long-random-salt-0123").require_wechat()


def test_the_test_key_is_valid() -> None:
    Keys.from_setting(TEST_SEAL_KEY)


# -- the store ------------------------------------------------------------------------------


async def test_verify_store_key(database_url: str) -> None:
    database = open_database(database_url)
    try:
        sm = database.sessionmaker
        await verify_store_key(sm, Keys.from_setting(OLD), NOW)
        async with database.reader() as session:
            rows = (await session.execute(select(KeyCheck))).scalars().all()
        assert [row.name for row in rows] == [CANARY]
        assert rows[0].created_at == NOW
        await verify_store_key(sm, Keys.from_setting(OLD), NOW)  # same key: passes
        with pytest.raises(KeyMismatch) as caught:
            await verify_store_key(sm, Keys.from_setting(NEW), NOW)
        assert "PINGAN_SEAL_KEY=NEW,OLD" in str(caught.value)
        assert "pingan keys rotate" in str(caught.value)
        await verify_store_key(sm, Keys.from_setting(f"{NEW},{OLD}"), NOW)
        await verify_store_key(sm, Keys.from_setting(f"{OTHER},{NEW},{OLD}"), NOW)
    finally:
        await database.dispose()


async def test_two_starts_with_different_keys_on_an_empty_store(database_url: str) -> None:
    first, second = open_database(database_url), open_database(database_url)
    try:
        results = await asyncio.gather(
            verify_store_key(first.sessionmaker, Keys.from_setting(OLD), NOW),
            verify_store_key(second.sessionmaker, Keys.from_setting(NEW), NOW),
            return_exceptions=True,
        )
        # One canary between them; the loser's key is checked against it and refused.
        assert sorted(type(r).__name__ for r in results) == ["KeyMismatch", "NoneType"]
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_store_sealed_before_the_canary_is_checked_too(database_url: str) -> None:
    database = open_database(database_url)
    try:
        async with database.sessionmaker.begin() as session:
            session.add(user("o-1", tips_sealed=Keys.from_setting(OLD).seal("[1]")))
        with pytest.raises(KeyMismatch):
            await verify_store_key(database.sessionmaker, Keys.from_setting(NEW), NOW)
        async with database.reader() as session:
            assert await session.get(KeyCheck, CANARY) is None
        await verify_store_key(database.sessionmaker, Keys.from_setting(OLD), NOW)
    finally:
        await database.dispose()


def user(openid: str, *, tips_sealed: str | None = None) -> User:
    return User(
        openid=openid,
        subscribed_at=NOW,
        last_inbound_at=NOW,
        tips_sealed=tips_sealed,
    )


def delivery(n: int, status: str, payload: str) -> Delivery:
    return Delivery(
        dedup_key=f"d{n}", msg_type="text", payload=payload, status=status, received_at=NOW
    )


def tip(n: int, reporter_sealed: str | None) -> Tip:
    return Tip(
        code=f"T{n}",
        category="other",
        level="blue",
        source="guided",
        reporter_sealed=reporter_sealed,
        created_at=NOW,
        updated_at=NOW,
    )


async def seed_old_store(database: Database) -> None:
    old = Keys.from_setting(OLD)
    await verify_store_key(database.sessionmaker, old, NOW)
    async with database.sessionmaker.begin() as session:
        session.add_all(
            [
                user("o-1", tips_sealed=old.seal("[1, 2]")),
                user("o-2"),
                tip(1, old.seal("o-1")),
                tip(2, old.seal("o-1")),
                tip(3, None),
                delivery(1, "failed", old.seal("<xml>failed</xml>")),
                delivery(2, "limited", old.seal("<xml>limited</xml>")),
                delivery(3, "done", ""),
                delivery(4, "processing", "<xml>plain</xml>"),
                delivery(5, "failed", Keys.from_setting(OTHER).seal("lost")),
            ]
        )


async def test_keys_rotate_moves_the_store_to_the_new_key(database_url: str) -> None:
    database = open_database(database_url)
    try:
        await seed_old_store(database)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            seal_key=f"{NEW},{OLD}",
        )
        out = await admin.keys_rotate(settings, argparse.Namespace())
        lines = out.splitlines()
        assert re.match(r"key check +1 re-sealed +0 already newest$", lines[0])
        assert re.match(r"tips\.reporter_sealed +2 re-sealed +0 already newest$", lines[1])
        assert re.match(r"users\.tips_sealed +1 re-sealed", lines[2])
        assert re.match(
            r"deliveries\.payload +2 re-sealed +0 already newest +1 unreadable", lines[3]
        )
        assert "can be removed" in lines[4]

        new = Keys.from_setting(NEW)
        await verify_store_key(database.sessionmaker, new, NOW)
        async with database.reader() as session:
            tips = (await session.execute(select(Tip).order_by(Tip.id))).scalars().all()
            users = (await session.execute(select(User).order_by(User.openid))).scalars().all()
            deliveries = (
                (await session.execute(select(Delivery).order_by(Delivery.id))).scalars().all()
            )
        assert [new.unseal(t.reporter_sealed) if t.reporter_sealed else None for t in tips] == [
            "o-1",
            "o-1",
            None,
        ]
        assert tips[0].reporter_sealed != tips[1].reporter_sealed
        assert users[0].tips_sealed and new.unseal(users[0].tips_sealed) == "[1, 2]"
        assert users[1].tips_sealed is None
        assert new.unseal(deliveries[0].payload) == "<xml>failed</xml>"
        assert new.unseal(deliveries[1].payload) == "<xml>limited</xml>"
        assert [d.payload for d in deliveries[2:4]] == ["", "<xml>plain</xml>"]

        again = await admin.keys_rotate(settings, argparse.Namespace())
        assert re.match(
            r"tips\.reporter_sealed +0 re-sealed +2 already newest$", again.split("\n")[1]
        )
    finally:
        await database.dispose()


async def test_keys_rotate_refuses_keys_that_cannot_read_the_store(database_url: str) -> None:
    database = open_database(database_url)
    try:
        await seed_old_store(database)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            seal_key=f"{NEW},{OTHER}",
        )
        with pytest.raises(SystemExit, match="cannot read this store"):
            await admin.keys_rotate(settings, argparse.Namespace())
        await verify_store_key(database.sessionmaker, Keys.from_setting(OLD), NOW)  # untouched
    finally:
        await database.dispose()


def test_cli_keys_new(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new"]) == 0
    first = capsys.readouterr().out.strip()
    main(["keys", "new"])
    second = capsys.readouterr().out.strip()
    assert first != second
    Keys.from_setting(f"{first},{second}")


def test_demo_keeps_the_key_of_a_kept_store(tmp_path: Path) -> None:
    assert demo_seal_key(None) != demo_seal_key(None)
    store = tmp_path / "demo.db"
    key = demo_seal_key(store)
    assert demo_seal_key(store) == key
    key_file = tmp_path / "demo.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    Keys.from_setting(key)


# -- SQL parameters never reach exception messages ------------------------------------------


async def test_engines_hide_parameters(database_url: str) -> None:
    database = open_database(database_url)
    try:
        async with database.sessionmaker.begin() as session:
            session.add(user("o-secret-123"))
        with pytest.raises(IntegrityError) as caught:
            async with database.sessionmaker.begin() as session:
                session.add(user("o-secret-123"))
        assert "o-secret-123" not in str(caught.value)
        assert "hidden" in str(caught.value)
        # Nor in the chained driver error a logged traceback shows (asyncpg's DETAIL line).
        assert "o-secret-123" not in "".join(traceback.format_exception(caught.value))
        assert database.read_engine.sync_engine.hide_parameters
    finally:
        await database.dispose()
