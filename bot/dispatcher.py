"""The dispatcher: middlewares around the routers, and a fallback for what nobody handled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from bot import middlewares
from bot.message import Message
from bot.middlewares import Next
from bot.router import Data, Handler, HandlerFunc, Result, Router, Unhandled

Middleware = Callable[[Next, Message, Data], Awaitable[Result]]


class Dispatcher(Router):
    def __init__(self, *, middlewares: Sequence[Middleware], fallback: HandlerFunc) -> None:
        super().__init__("dispatcher")
        self.middlewares = list(middlewares)
        self.fallback = Handler(fallback, ())

    async def feed(self, message: Message, data: Data) -> Result:
        """Run one message through the middlewares and routers; returns the reply text."""
        chain: Next = self._route
        for middleware in reversed(self.middlewares):
            chain = partial(middleware, chain)
        return await chain(message, data)

    async def _route(self, message: Message, data: Data) -> Result:
        result = await self.propagate(message, data)
        if isinstance(result, Unhandled):
            return await self.fallback.call({**data, "message": message})
        return result


def create_dispatcher(*extra: Router) -> Dispatcher:
    """The bot: every audience's router, in the order they get to look at a message.

    ``extra`` routers go after the universal words and before everything else (tests and
    the demo plug flows in this way).
    """
    from handlers import common, community, language
    from handlers.inquiries import router as inquiries
    from handlers.intents import router as intents
    from handlers.officers import access, alerts, feature
    from handlers.patrols import feature as patrols
    from handlers.tips import emergency, followup, report, service

    # Order matters: the user is needed to pick the language and role, the dialog to route
    # by state; held notices are appended to whatever the handlers answered. The session,
    # its transaction and the per-user lock wrap all of this (see ``bot.pipeline``).
    dispatcher = Dispatcher(
        middlewares=[
            middlewares.load_user,
            access.load_officer,
            middlewares.load_dialog,
            *patrols.MIDDLEWARES,  # after the dialog: a shift keeps its step
            middlewares.show_held,
            service.provide,
            alerts.deliver_alerts,  # innermost: its note follows the handler's own words
        ],
        fallback=common.fallback,
    )
    # Emergencies come before everything, even 取消: nothing may make them wait.
    dispatcher.include(
        emergency.router,
        *patrols.FIRST,  # 结束巡逻 is not 取消; a photo on patrol is a report
        common.universal,
        *extra,
        common.lifecycle,
        *feature.ROUTERS,
        *patrols.ROUTERS,
        report.router,
        followup.router,
        community.router,
        language.router,
        intents.router,  # free text nobody else took: a report, a fraud victim, a greeting…
        inquiries.router,  # …or else a question for the knowledge base
    )
    return dispatcher
