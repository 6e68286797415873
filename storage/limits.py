"""Sizes of stored values, in one place: the columns use them and the input rules enforce them.

SQLite ignores ``VARCHAR(n)`` and PostgreSQL refuses a longer value, so a limit that only the
column knew would behave differently on the two stores. Input is checked (or clipped, where
the platform itself may send more) against these numbers before anything is stored.
"""

from __future__ import annotations

#: WeChat openids are 28 characters; unionids and test ids stay well under this.
OPENID = 64
#: The account's original id (gh_…) in ToUserName.
ACCOUNT = 64
#: MsgType and Event names (text, image, location, subscribe, templatesendjobfinish…).
MSG_TYPE = 32
EVENT = 64
#: EventKey: a menu key (≤ 128 bytes on the platform) or a QR scene with its prefix.
EVENT_KEY = 128
#: A QR code's scene_str (platform limit 64).
SCENE = 64
#: A location's label as the resident's phone sends it; longer labels are clipped.
LOCATION_LABEL = 200
#: A typed address in a report.
ADDRESS = 200
#: Digits of MsgId (64-bit) and CreateTime (seconds since 1970).
MSG_ID_DIGITS = 20
CREATE_TIME_DIGITS = 10
#: A text message's Content (the platform caps text at 2048 bytes; leave room).
CONTENT_CHARS = 4000
#: A reporter's name and phone on a named tip.
REPORTER_NAME = 32
REPORTER_PHONE = 20
#: Hex HMAC-SHA256 digests (dedup keys, nonce keys, keyed hashes of openids).
DIGEST = 64
#: A VIEW (or view_miniprogram) event's EventKey is the menu's URL or page path, which the
#: platform allows up to 1024 bytes; other events keep EVENT_KEY.
MENU_URL = 1024
#: A downloaded media file's MIME type (tip_media.content_type).
CONTENT_TYPE = 64
