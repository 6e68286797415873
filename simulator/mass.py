"""Mass send by tag or to all (sendall) and to a list of openids (send).

Quotas: a service account may call 100 times a day and each follower receives at most 4 mass
messages a month (the rest are filtered out); a subscription account may call once a day. A
clientmsgid seen in the last 24 h answers 45065 with the earlier msg_id. The result arrives
later as the MASSSENDJOBFINISH event, queued in ``Records.pending_events``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.clock import Clock, china_month
from simulator.custom import visible_content
from simulator.errors import ApiError
from simulator.quotas import DailyQuota, RateWindow
from simulator.records import Records
from simulator.request import ApiRequest, require_int
from simulator.users import Follower, Users

MSGTYPES = frozenset({"text", "mpnews", "image", "voice", "mpvideo", "wxcard"})
MONTHLY_PER_FOLLOWER = 4
DEDUP_SECONDS = 24 * 3600
MAX_CLIENTMSGID = 64
QUOTA_NAME = "/cgi-bin/message/mass/sendall"  # sendall and send share the daily count
HELPER = "mphelper"  # FromUserName of MASSSENDJOBFINISH


@dataclass(frozen=True, slots=True)
class MassJob:
    msg_id: int
    msgtype: str
    content: Any
    total: int
    sent_to: tuple[str, ...]
    time: float


class MassSender:
    def __init__(
        self,
        *,
        clock: Clock,
        users: Users,
        records: Records,
        quota: DailyQuota,
        service: bool,
        tag_ids: Callable[[], set[int]],
    ) -> None:
        self._clock = clock
        self._users = users
        self._records = records
        self._quota = quota
        self._service = service
        self._tag_ids = tag_ids
        self._per_minute = RateWindow(clock, limit=60, seconds=60, errcode=45011)
        self._received: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
        self._clientmsgids: dict[str, tuple[float, int]] = {}
        self._ids = itertools.count(1_000_000_001)
        self.jobs: list[MassJob] = []

    # -- endpoints ------------------------------------------------------------------------

    def sendall(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/message/mass/sendall {"filter": {"is_to_all", "tag_id"}, ...}"""
        body = request.body()
        audience = body.get("filter")
        if not isinstance(audience, dict):
            raise ApiError(40035)
        followers = [u for u in self._users.all() if u.subscribed]
        if audience.get("is_to_all") is not True:
            tag_id = require_int(audience.get("tag_id"), 40035)
            if tag_id not in self._tag_ids():
                raise ApiError(45159)
            followers = [u for u in followers if tag_id in u.tags]
        return self._submit(body, followers)

    def send(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/message/mass/send {"touser": [openid, ...], ...}: service only."""
        if not self._service:
            raise ApiError(48001)
        body = request.body()
        openids = body.get("touser")
        if not isinstance(openids, list) or not 2 <= len(openids) <= 10_000:
            raise ApiError(40130)
        users = [self._users.get(openid) for openid in openids]
        return self._submit(body, [u for u in users if u.subscribed])

    def status(self, request: ApiRequest) -> dict[str, Any]:
        """POST /cgi-bin/message/mass/get {"msg_id": ...}"""
        msg_id = request.body().get("msg_id")
        if not any(job.msg_id == msg_id for job in self.jobs):
            raise ApiError(40035)
        return {"msg_id": msg_id, "msg_status": "SEND_SUCCESS"}

    # -- internals ------------------------------------------------------------------------

    def _content(self, body: dict[str, Any]) -> tuple[str, Any]:
        msgtype = body.get("msgtype")
        if not isinstance(msgtype, str) or msgtype not in MSGTYPES:
            raise ApiError(40008)
        part = body.get(msgtype)
        if not isinstance(part, dict) or not (part.get("content") or part.get("media_id")):
            raise ApiError(47001)
        return msgtype, visible_content(msgtype, part)

    def _dedup(self, clientmsgid: Any) -> None:
        if clientmsgid is None:
            return
        if not isinstance(clientmsgid, str) or len(clientmsgid) > MAX_CLIENTMSGID:
            raise ApiError(45067)
        seen = self._clientmsgids.get(clientmsgid)
        if seen is not None and self._clock() - seen[0] < DEDUP_SECONDS:
            raise ApiError(45065, msg_id=seen[1])

    def _submit(self, body: dict[str, Any], followers: list[Follower]) -> dict[str, Any]:
        msgtype, content = self._content(body)
        clientmsgid = body.get("clientmsgid")
        self._dedup(clientmsgid)  # before the quota: a duplicate spends nothing
        self._per_minute.take("mass")
        self._quota.take(QUOTA_NAME)
        now = self._clock()
        month = china_month(now)
        sent: list[str] = []
        for user in followers:
            if self._service and self._received[(user.openid, month)] >= MONTHLY_PER_FOLLOWER:
                continue
            self._received[(user.openid, month)] += 1
            sent.append(user.openid)
            self._records.deliver(
                user.openid, channel="mass", msgtype=msgtype, content=content, payload=body
            )
        msg_id = next(self._ids)
        if isinstance(clientmsgid, str):
            self._clientmsgids[clientmsgid] = (now, msg_id)
        self.jobs.append(MassJob(msg_id, msgtype, content, len(followers), tuple(sent), now))
        # FilterCount is what remains after filtering, i.e. what is about to be sent.
        self._records.push_event(
            HELPER,
            "MASSSENDJOBFINISH",
            MsgID=msg_id,
            Status="send success",
            TotalCount=len(followers),
            FilterCount=len(sent),
            SentCount=len(sent),
            ErrorCount=0,
        )
        answer: dict[str, Any] = {
            "errcode": 0,
            "errmsg": "send job submission success",
            "msg_id": msg_id,
        }
        if msgtype == "mpnews":  # msg_data_id exists only for article messages
            answer["msg_data_id"] = 2_247_483_000 + msg_id % 1_000_000
        return answer
