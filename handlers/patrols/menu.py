"""The volunteers' menu (``menu.yaml`` here): pushed for the 巡防队员 tag; its clicks are
answered by the patrol routers (``volunteer.MENU_KEYS``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handlers.menu import load_menu

PATROL_MENU_FILE = Path(__file__).resolve().parent / "menu.yaml"


def load_patrol_menu() -> dict[str, Any]:
    return load_menu(PATROL_MENU_FILE)
