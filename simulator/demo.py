"""`pingan demo`: the bot and the fake WeChat platform on SQLite, and a chat in the terminal.

You act as named users (a resident, a patrol volunteer, an officer): type text, send a
location, click a menu key, send a photo, and see the passive reply and anything pushed later.
``--script FILE`` plays a transcript instead and prints the exchange.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import shlex
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from bot.app import create_app
from bot.config import Settings
from bot.keys import new_key
from bot.typedefs import pipeline_key, sessionmaker_key
from simulator import FakeWeChat, WeChatSender, create_platform_app
from storage.officers import OfficerRepo
from storage.patrols import PatrolRepo
from storage.users import CommunityRepo

TOKEN = "demo-token"
APPID = "wxdemo0000000001"
SECRET = "demo-secret"
ORIGINAL_ID = "gh_pingan_demo"
BOT_NAME = "平安"

HELP = """命令（其余输入作为文字消息发送）：
  /as 名字            换成另一个用户（如 /as 老李）
  /follow [场景]      关注公众号，可带二维码场景：c:xinhua 加入社区，e:PATROL-DEMO 巡防登记
                      （巡防队员：「注册 PATROL-DEMO」，再点 /click PATROL_START）
                      （民警：发送「绑定 OFFICER-DEMO」，再发「新线索」）
  /unfollow           取消关注（删除个人资料）
  /scan 场景          已关注时扫码
  /click 菜单键       点击菜单（如 /click TIP_REPORT）
  /loc 纬度 经度 [名称] 发送位置
  /track 纬度 经度     微信定时上报的地理位置（巡逻轨迹）
  /photo              发送一张现场照片
  /voice 文字         发送语音（带微信识别文字）
  /inbox              查看此用户收到的全部推送
  /quit               退出"""


def openid_for(name: str) -> str:
    return "o" + hashlib.sha1(name.encode()).hexdigest()[:27]


def demo_photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 120, 160)).save(out, format="JPEG")
    return out.getvalue()


class Chat:
    def __init__(
        self,
        sender: WeChatSender,
        platform: FakeWeChat,
        out: Callable[[str], None],
        settle: Callable[[], Awaitable[None]],
    ) -> None:
        self.sender = sender
        self.platform = platform
        self.out = out
        self.settle = settle  # waits until the bot has finished what the message started
        self.seen: dict[str, int] = {}

    def _show(self, who: str, text: str) -> None:
        pad = " " * (len(who) * 2 + 3)
        lines = text.splitlines() or [""]
        self.out(f"{who} ‹ {lines[0]}")
        for line in lines[1:]:
            self.out(f"{pad}{line}")

    async def say(self, name: str, line: str) -> None:
        openid = openid_for(name)
        self.out(f"{name} › {line}")
        result = await self._send(openid, line)
        if result is not None and result.reply is not None:
            self._show(BOT_NAME, result.reply.content)
        await self.settle()  # let late replies and pushes land before the next line
        self._show_pushes(openid)

    def _show_pushes(self, openid: str) -> None:
        inbox = self.platform.inbox(openid)
        for message in inbox[self.seen.get(openid, 0) :]:
            self._show(BOT_NAME + "（推送）", str(message.get("content", message)))
        self.seen[openid] = len(inbox)

    async def _send(self, openid: str, line: str):  # type: ignore[no-untyped-def]
        if not line.startswith("/"):
            return await self.sender.text(openid, line)
        command, *args = shlex.split(line)
        if command == "/follow":
            return await self.sender.subscribe(openid, args[0] if args else None)
        if command == "/unfollow":
            return await self.sender.unsubscribe(openid)
        if command == "/scan" and args:
            return await self.sender.scan(openid, args[0])
        if command == "/click" and args:
            return await self.sender.click(openid, args[0])
        if command == "/loc" and len(args) >= 2:
            label = " ".join(args[2:])
            return await self.sender.location(openid, float(args[0]), float(args[1]), label)
        if command == "/track" and len(args) >= 2:
            return await self.sender.location_event(openid, float(args[0]), float(args[1]))
        if command == "/photo":
            return await self.sender.image(openid, demo_photo())
        if command == "/voice":
            return await self.sender.voice(openid, b"#!AMR\n", recognition=" ".join(args))
        if command == "/inbox":
            inbox = self.platform.inbox(openid)
            for message in inbox:
                self._show(BOT_NAME + "（推送）", str(message.get("content", message)))
            self.seen[openid] = len(inbox)  # shown now: not again after this line
            return None
        self.out(HELP)
        return None


async def _seed(app: web.Application) -> None:
    now = datetime.now(UTC)
    async with app[sessionmaker_key].begin() as session:
        communities = CommunityRepo(session)
        if await communities.by_code("xinhua") is None:
            community = await communities.create(code="xinhua", name="新华社区", now=now)
            # The village's red-armband team and a volunteer's code: `注册 PATROL-DEMO`
            # (or /follow e:PATROL-DEMO) enrols 张大姐.
            patrols = PatrolRepo(session)
            team = await patrols.add_team(
                name="新华社区红袖标队",
                community_id=community.id,
                lat=45.0586,
                lng=121.4727,
                radius_m=800,
                now=now,
            )
            await patrols.invite(
                team,
                name="张大姐",
                role="publicist",
                code="PATROL-DEMO",
                now=now,
                valid=timedelta(days=30),
            )
            # The demo's duty officer: `绑定 OFFICER-DEMO` (or /follow e:OFFICER-DEMO).
            await OfficerRepo(session).add(
                name="王警官", rank="officer", code="OFFICER-DEMO", now=now, valid=timedelta(30)
            )


async def _start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def demo_seal_key(database: Path | None) -> str:
    """A fresh key for a temporary store; for a kept one, the key kept beside it (FILE.key).

    A demo store is made with its own key, so a later run can read the store it left.
    """
    if database is None:
        return new_key()
    path = database.with_name(database.name + ".key")
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = new_key()
    path.touch(mode=0o600)
    path.write_text(key + "\n", encoding="utf-8")
    return key


async def _demo(script: str | None, database: str | None, out: Callable[[str], None]) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="pingan-demo-"))
    db_path = Path(database) if database else workdir / "demo.db"
    platform = FakeWeChat(appid=APPID, secret=SECRET, clock=time.time)
    platform_runner, platform_url = await _start(create_platform_app(platform))
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{db_path}",
        wechat_token=TOKEN,
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_api_base=platform_url,
        wecom_api_base=platform_url,
        seal_key=demo_seal_key(Path(database) if database else None),
        log_level="WARNING",
    )
    app = create_app(settings)
    bot_runner, bot_url = await _start(app)
    try:
        await _seed(app)
        sender = WeChatSender(
            url=bot_url + "/wechat",
            token=TOKEN,
            appid=APPID,
            original_id=ORIGINAL_ID,
            platform=platform,
        )
        pipeline = app[pipeline_key]

        async def settle() -> None:
            while pipeline.tasks:
                await asyncio.gather(*list(pipeline.tasks))

        chat = Chat(sender, platform, out, settle)
        if script:
            for raw in script.splitlines():
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                name, _, said = line.partition(":")
                await chat.say(name.strip(), said.strip())
            return 0
        out(f"pingan demo — bot {bot_url}/wechat, fake WeChat {platform_url}, store {db_path}")
        out(HELP)
        name = "小王"
        while True:
            try:
                line = (await asyncio.to_thread(input, f"[{name}] ")).strip()
            except (EOFError, KeyboardInterrupt):
                break
            if line in ("/quit", "/exit"):
                break
            if line.startswith("/as "):
                name = line[4:].strip() or name
                continue
            if line:
                await chat.say(name, line)
        return 0
    finally:
        await bot_runner.cleanup()
        await platform_runner.cleanup()


def run_demo(*, script: str | None = None, database: str | None = None) -> int:
    """Chat in the terminal, or play the transcript in the file ``script``."""
    transcript = Path(script).read_text(encoding="utf-8") if script else None
    return asyncio.run(_demo(transcript, database, lambda text: print(text, flush=True)))


if __name__ == "__main__":
    sys.exit(run_demo(script=sys.argv[1] if len(sys.argv) > 1 else None))
