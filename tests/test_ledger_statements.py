"""The hot path's Core statements (``storage.deliveries``, ``storage.inquiries``) write rows
the ORM reads back exactly as if it had written them, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.db import open_database
from storage.deliveries import Claim, DeliveryRepo
from storage.inquiries import InquiryRepo
from storage.models import Delivery, UnansweredQuestion, WebhookNonce

NOW = datetime(2026, 11, 25, 8, 30, 15, 123456, tzinfo=UTC)


def claim(n: int, user: str = "u1") -> Claim:
    return Claim(f"key-{n}", f"user-{user}", "text", None, f"<xml>{n}</xml>")


async def test_claims_and_finishes_read_back_through_the_orm(database_url: str) -> None:
    database = open_database(database_url)
    try:
        async with database.sessionmaker.begin() as session:
            repo = DeliveryRepo(session)
            won = await repo.claim_many(
                [claim(1), claim(2, "u2"), claim(1), claim(3)], owner="me", now=NOW
            )
            assert won == [True, True, False, True]  # the copy in the same batch lost
            reused = await repo.use_nonces([("n1", "b1"), ("n2", "b2"), ("n1", "b9")], NOW)
            assert reused == [False, False, True]
        async with database.sessionmaker.begin() as session:
            repo = DeliveryRepo(session)
            assert await repo.claim_many([claim(2, "u2")], owner="other", now=NOW) == [False]
            assert await repo.use_nonces([("n2", "b2"), ("n2", "b3")], NOW) == [False, True]
            assert await repo.turns(["key-1", "key-2", "key-9"], "me") == (
                {"key-1", "key-2"},
                set(),
            )
            # A sender's later message waits while another process handles the earlier one.
            await repo.claim_many([claim(5, "u5")], owner="other", now=NOW)
            await repo.claim_many([claim(6, "u5")], owner="me", now=NOW)
            assert await repo.turns(["key-3", "key-6"], "me") == ({"key-3", "key-6"}, {"key-6"})
            assert await repo.turns(["key-1", "key-3"], "nobody") == (set(), set())
            await repo.finish_done([("key-1", "<xml>reply</xml>")], owner="me", now=NOW)
            await repo.finish_done([("key-2", "<xml>no</xml>")], owner="other", now=NOW)
        async with database.reader() as session:
            rows = {d.dedup_key: d for d in (await session.scalars(select(Delivery))).all()}
            nonces = {n.nonce_key: n for n in (await session.scalars(select(WebhookNonce))).all()}
        # Ids follow the order of arrival; times come back as the aware UTC the ORM writes.
        assert rows["key-1"].id < rows["key-2"].id < rows["key-3"].id
        first = rows["key-1"]
        assert (first.status, first.reply, first.payload) == ("done", "<xml>reply</xml>", "")
        assert first.finished_at == NOW and first.received_at == NOW
        assert first.received_at.tzinfo is not None
        assert (first.user_key, first.msg_type, first.event, first.owner) == (
            "user-u1",
            "text",
            None,
            "me",
        )
        # Another process's finish does not touch a row it does not own.
        second = rows["key-2"]
        assert (second.status, second.reply, second.payload) == (
            "processing",
            None,
            "<xml>2</xml>",
        )
        assert nonces["n1"].body_hash == "b1" and nonces["n1"].seen_at == NOW
    finally:
        await database.dispose()


async def test_the_unanswered_upsert_counts_like_the_orm_would(database_url: str) -> None:
    database = open_database(database_url)
    later = NOW + timedelta(hours=1)
    try:
        async with database.sessionmaker.begin() as session:
            repo = InquiryRepo(session)
            await repo.unanswered("狗证", "狗证怎么办", NOW)
            await repo.unanswered("狗证", "狗证咋办", later, suggested="去街道办")
            await repo.unanswered("狗证", "狗证在哪办", later)
        async with database.reader() as session:
            row = (await session.scalars(select(UnansweredQuestion))).one()
        assert (row.normalized, row.example, row.asked) == ("狗证", "狗证怎么办", 3)
        assert (row.first_asked_at, row.last_asked_at) == (NOW, later)
        assert row.suggested_answer == "去街道办"  # kept when a later ask brings none
    finally:
        await database.dispose()
