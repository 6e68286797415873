"""The custom menu as data (``menu.yaml``): loaded, checked, and listed by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MENU_FILE = Path(__file__).resolve().parent / "menu.yaml"


def load_menu(path: Path = MENU_FILE) -> dict[str, Any]:
    menu: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return menu


def click_keys(menu: dict[str, Any]) -> list[str]:
    keys = []
    for button in menu["button"]:
        # `or`: menu/get and trymatch give a leaf an empty sub_button list.
        for item in button.get("sub_button") or [button]:
            if item.get("type") == "click":
                keys.append(str(item["key"]))
    return keys
