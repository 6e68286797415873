"""Per-user dialog state, written in the same transaction as the handler's effects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DialogState


class DialogRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, openid: str) -> DialogState | None:
        return await self.session.get(DialogState, openid)

    async def save(
        self,
        openid: str,
        *,
        state: str | None,
        data: dict[str, Any],
        history: list[str],
        now: datetime,
    ) -> None:
        row = await self.session.get(DialogState, openid)
        if state is None and not data:
            if row is not None:
                await self.session.delete(row)
            return
        if row is None:
            row = DialogState(openid=openid)
            self.session.add(row)
        row.state = state
        row.data = dict(data)
        row.history = list(history)
        row.updated_at = now

    async def delete(self, openid: str) -> None:
        await self.session.execute(delete(DialogState).where(DialogState.openid == openid))
