"""Recording deliveries in the ledger, the messages that arrived together in one transaction.

A claim commits before WeChat hears anything: the batch is one multi-row INSERT (ledger ids
follow the order of arrival) and one commit, so storing a message costs a share of a commit
rather than a whole one. A plain call's nonce is checked in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.batcher import Batcher, Entry
from storage.clock import Clock, utc
from storage.deliveries import Claim, DeliveryRepo, Nonce, NonceReused


@dataclass(frozen=True, slots=True)
class Request:
    claim: Claim
    nonce: Nonce | None


class Claims:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        owner: str,
        clock: Clock,
        limit: int,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.owner = owner
        self.clock = clock
        self._batcher: Batcher[Request, bool] = Batcher(self._record, limit=limit)

    async def claim(self, claim: Claim, nonce: Nonce | None) -> bool:
        """True when this process recorded the delivery now, False for a copy of one recorded
        before; raises ``NonceReused`` for a nonce seen before with another body."""
        return await self._batcher.submit(Request(claim, nonce))

    async def _record(self, entries: list[Entry[Request, bool]]) -> None:
        requests = [entry.item for entry in entries]
        now = utc(self.clock)
        async with self.sessionmaker.begin() as session:
            repo = DeliveryRepo(session)
            signed = [r for r in requests if r.nonce is not None]
            reused = await repo.use_nonces([r.nonce for r in signed if r.nonce], now)
            refused = {id(r) for r, bad in zip(signed, reused, strict=True) if bad}
            taken = [r for r in requests if id(r) not in refused]
            won = iter(await repo.claim_many([r.claim for r in taken], owner=self.owner, now=now))
        for entry, request in zip(entries, requests, strict=True):
            entry.settle(NonceReused() if id(request) in refused else next(won))
