"""The demo plays a transcript end to end, the way the README shows it."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "simulator" / "scripts" / "tip.txt"
#: Who works at the station in the transcript: they ask for the long views on purpose.
STAFF = {"王警官"}
#: What a resident types to ask for more than a screen.
MORE = {"详情", "材料", "清单"}
MAX_LINES = 8
MAX_WIDTH = 200  # a Chinese character is one; a Latin letter half (as on a phone screen)


@cache
def played() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--script", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def exchanges(out: str) -> list[tuple[str, str, list[str]]]:
    """(who, what they sent, the replies and pushes they got, each as one text)."""
    found: list[tuple[str, str, list[str]]] = []
    for line in out.splitlines():
        said = re.match(r"^(\S+) › (.*)$", line)
        answer = re.match(r"^平安(?:（推送）)? ‹ (.*)$", line)
        if said:
            found.append((said[1], said[2], []))
        elif answer and found:
            found[-1][2].append(answer[1])
        elif line.startswith(" ") and found and found[-1][2]:
            found[-1][2][-1] += "\n" + line.strip()
    return found


def width(text: str) -> float:
    return sum(1 if ord(c) > 0x2E7F else 0.5 for c in text if c != "\n")


def test_demo_script_files_a_tip() -> None:
    result = played()
    out = result.stdout
    assert "已加入社区：新华社区。" in out
    assert "举报已提交，编号：" in out
    assert "请立即拨打 119（火警）" in out
    assert "老赵 › 有人拿刀\n平安 ‹ 情况紧急，请立即拨打 110（报警）！" in out
    assert "已记下（盗窃）：我要举报，小区车棚里的电动车被偷了" in out
    assert "登记成功：张大姐，新华社区红袖标队宣传员。" in out
    assert "绑定成功：王警官（民警）。" in out  # the demo officer binds…
    assert "正在通知 1 位值班民警。" in out  # …is alerted to the fire at once…
    assert "【值班提醒】紧急" in out
    assert "[红色]" in out and "三楼着火了" in out  # …and sees it in 新线索
    assert "Traceback" not in result.stderr


def test_every_reply_to_a_resident_fits_a_phone_screen() -> None:
    long = [
        (who, said, reply)
        for who, said, replies in exchanges(played().stdout)
        if who not in STAFF and said not in MORE
        for reply in replies
        if reply.count("\n") + 1 > MAX_LINES or width(reply) > MAX_WIDTH
    ]
    for who, said, reply in long:
        print(f"\n{who} › {said}\n{reply}")
    assert not long
