"""Middlewares around the routers: each gets the next step, the message and the data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.dialog import DialogContext, StatesGroup
from bot.i18n import _, current_language
from bot.message import Message
from bot.push import open_payload
from bot.router import Data, Result
from storage.dialogs import DialogRepo
from storage.outbox import OutboxRepo
from storage.users import UserRepo

Next = Callable[[Message, Data], Awaitable[Result]]


async def load_user(handler: Next, message: Message, data: Data) -> Result:
    """Load (or on first contact create) the sender's profile and set their language."""
    users = UserRepo(data["session"])
    if message.event == "unsubscribe":
        data["user"] = await users.get(message.openid)
    else:
        data["user"], data["new_user"] = await users.seen(
            message.openid, kind=message.interaction, now=data["now"]
        )
    language = data["user"].language if data["user"] else current_language.get()
    token = current_language.set(language)
    try:
        return await handler(message, data)
    finally:
        current_language.reset(token)


async def load_dialog(handler: Next, message: Message, data: Data) -> Result:
    """Load the dialog (expired after the configured idle time) and save it with the effects."""
    repos = DialogRepo(data["session"])
    row = await repos.get(message.openid)
    dialog = DialogContext()
    expired = False
    if row is not None:
        idle = data["now"] - row.updated_at
        step = StatesGroup.lookup(row.state)
        limit = step.idle if step is not None and step.idle is not None else None
        if idle > (limit or timedelta(seconds=data["settings"].dialog_timeout)):
            expired = row.state is not None
            dialog.changed = True  # drop the stale row
            await StatesGroup.abandon(row.state, {**data, "message": message})
        else:
            dialog = DialogContext(state=row.state, data=dict(row.data), history=list(row.history))
    data["dialog"] = dialog
    result = await handler(message, data)
    if dialog.changed and data.get("user") is not None:
        await repos.save(
            message.openid,
            state=dialog.state,
            data=dialog.data,
            history=dialog.history,
            now=data["now"],
        )
    if expired and result:
        result = _("（上次未完成的操作已超时，已自动取消。）") + "\n" + result
    return result


async def show_held(handler: Next, message: Message, data: Data) -> Result:
    """Pushes WeChat refused while the user's window was closed are shown when they write."""
    result = await handler(message, data)
    user = data.get("user")
    if user is None or not user.held_pushes or (message.is_event and message.event != "click"):
        return result
    user.held_pushes = 0
    outbox = OutboxRepo(data["session"])
    held = await outbox.held_for(message.openid)
    if not held:
        return result
    notes = [str(open_payload(data["keys"], row.payload).get("content", "")) for row in held]
    for row in held:
        await outbox.mark(row.id, status="shown", errcode=row.errcode, now=data["now"])
    parts = [result] if result else []
    parts.append(_("【您有未读通知】") + "\n" + "\n---\n".join(notes))
    return "\n\n".join(parts)
