"""The patrol demo plays its transcript end to end, and the README shows that very exchange:
enrolment, a shift with a quick report, the officer marking it valuable, and 我的积分."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path

from tests.test_demo import MAX_LINES, MAX_WIDTH, exchanges, width

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "simulator" / "scripts" / "patrol.txt"
README = ROOT / "README.md"
STAFF = {"王警官"}


@cache
def played() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--script", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "Traceback" not in result.stderr
    return result.stdout


def normal(text: str) -> list[str]:
    """What differs between runs made the same: the tip code, dates and times, and the
    pushes that carry a photo's media id or a map card."""
    lines = []
    for line in text.splitlines():
        if re.match(r"^平安（推送） ‹ (\[\{|[\w-]{40,}$)", line):
            continue
        line = re.sub(r"\b[2-9A-HJ-NP-Z]{8}\b", "K7M2QX9A", line)
        line = re.sub(r"\b\d\d-\d\d \d\d:\d\d\b", "11-25 08:00", line)
        line = re.sub(r"\b\d\d-\d\d\b", "11-25", line)
        lines.append(line.rstrip())
    return lines


def readme_transcript() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Patrols") :]
    found = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert found is not None, "the README's Patrols section shows the transcript"
    return found[1]


def test_the_patrol_demo_enrols_runs_a_shift_and_counts_points() -> None:
    out = played()
    assert "登记成功：张大姐，新华社区红袖标队宣传员。" in out
    assert "签到成功。" in out and "已收到照片 1 张。" in out
    assert re.search(r"已上报，编号 \w{8}（带位置）", out)
    assert "举报人：张大姐" in out  # a volunteer's report is never anonymous
    assert re.search(r"已标记 \w{8}「有价值」，张大姐 积分 \+5。", out)
    assert "上报 1 条，获得积分 11。" in out and "张大姐，您的积分：11" in out


def test_the_readme_shows_the_patrol_transcript_as_played() -> None:
    assert normal(readme_transcript()) == normal(played())


def test_every_reply_to_a_volunteer_fits_a_phone_screen() -> None:
    long = [
        (who, said, reply)
        for who, said, replies in exchanges(played())
        if who not in STAFF
        for reply in replies
        if reply.count("\n") + 1 > MAX_LINES or width(reply) > MAX_WIDTH
    ]
    assert not long, long
