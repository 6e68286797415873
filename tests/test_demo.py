"""The demo plays a transcript end to end, the way the README shows it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "simulator" / "scripts" / "tip.txt"


def test_demo_script_files_a_tip() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--script", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = result.stdout
    assert "已加入社区：新华社区。" in out
    assert "举报已提交，编号：" in out
    assert "请立即拨打 119（火警）" in out
    assert "登记成功，您的身份是：红袖标巡防队员。" in out
    assert "绑定成功：王警官（民警）。" in out  # the demo officer binds…
    assert "正在通知 1 位值班民警。" in out  # …is alerted to the fire at once…
    assert "【值班提醒】紧急" in out
    assert "[红色]" in out and "三楼着火了" in out  # …and sees it in 新线索
    assert "Traceback" not in result.stderr
