"""The webhook protocol pieces on their own: signatures, crypto, XML parsing, replies."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree

from bot.protocol import (
    ProtocolError,
    SafeMode,
    cdata_safe,
    check_timestamp,
    dedup_source,
    parse_xml,
    render_text_reply,
    sign,
    signature_ok,
    to_message,
)

# The platform's published sample (WXBizMsgCrypt test vectors).
TOKEN = "pamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxb11529c136998cb6"
SAMPLE_PLAIN = "我是中文abcd123"
SAMPLE_CIPHER = (
    "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
)


def test_published_sample_decrypts() -> None:
    safe = SafeMode(token=TOKEN, aes_key=AES_KEY, appid=APPID)
    signature = sign(TOKEN, "1409304348", "xxxxxx", SAMPLE_CIPHER)
    plain = safe.decrypt(
        SAMPLE_CIPHER, msg_signature=signature, timestamp="1409304348", nonce="xxxxxx"
    )
    assert plain == SAMPLE_PLAIN


def test_forged_msg_signature_refused() -> None:
    safe = SafeMode(token=TOKEN, aes_key=AES_KEY, appid=APPID)
    with pytest.raises(ProtocolError) as err:
        safe.decrypt(SAMPLE_CIPHER, msg_signature="0" * 40, timestamp="1409304348", nonce="x")
    assert err.value.status == 403


def test_encrypt_round_trip_and_other_appid() -> None:
    safe = SafeMode(token=TOKEN, aes_key=AES_KEY, appid=APPID)
    wrapped = parse_xml(safe.encrypt("<xml>hi</xml>", nonce="n1", timestamp="100"))
    assert signature_ok(wrapped["MsgSignature"], TOKEN, "100", "n1", wrapped["Encrypt"])
    assert (
        safe.decrypt(
            wrapped["Encrypt"], msg_signature=wrapped["MsgSignature"], timestamp="100", nonce="n1"
        )
        == "<xml>hi</xml>"
    )
    other = SafeMode(token=TOKEN, aes_key=AES_KEY, appid="wx-other")
    with pytest.raises(ProtocolError, match="another appid"):
        other.decrypt(
            wrapped["Encrypt"], msg_signature=wrapped["MsgSignature"], timestamp="100", nonce="n1"
        )


@pytest.mark.parametrize(
    "cipher",
    ["not base64 at all!!", "AAAA", SAMPLE_CIPHER[:-8] + "AAAAAAA=", "QUJD" * 8],
)
def test_corrupted_ciphertext_is_a_400(cipher: str) -> None:
    safe = SafeMode(token=TOKEN, aes_key=AES_KEY, appid=APPID)
    signature = sign(TOKEN, "1", "n", cipher)
    with pytest.raises(ProtocolError) as err:
        safe.decrypt(cipher, msg_signature=signature, timestamp="1", nonce="n")
    assert err.value.status == 400


def test_bad_aes_key_fails_fast() -> None:
    with pytest.raises(ValueError, match="EncodingAESKey"):
        SafeMode(token=TOKEN, aes_key="short", appid=APPID)


def test_signature_is_sorted_sha1() -> None:
    # sha1("1409304348" + "pamtest" + "xxxxxx") with the parts sorted
    assert sign("pamtest", "1409304348", "xxxxxx") == sign("xxxxxx", "pamtest", "1409304348")
    assert signature_ok(sign("a", "b"), "b", "a")
    assert not signature_ok("deadbeef", "a", "b")


@pytest.mark.parametrize(("timestamp", "ok"), [("1000", True), ("1300", True), ("1301", False)])
def test_timestamp_window(timestamp: str, ok: bool) -> None:
    if ok:
        check_timestamp(timestamp, now=1000, max_skew=300)
    else:
        with pytest.raises(ProtocolError):
            check_timestamp(timestamp, now=1000, max_skew=300)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"hello",
        b"<xml><Content>unclosed</xml>",
        b'<!DOCTYPE xml [<!ENTITY e "boom">]><xml><Content>&e;</Content></xml>',
        b'<!DOCTYPE xml SYSTEM "http://example.invalid/x.dtd"><xml/>',
        b"<notxml><A>1</A></notxml>",
        b"\xff\xfe\x00garbage",
    ],
)
def test_bad_xml_is_a_400(body: bytes) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_xml(body)
    assert err.value.status == 400


@pytest.mark.parametrize(
    "missing", ["ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId"]
)
def test_missing_fields_are_a_400(missing: str) -> None:
    fields = {
        "ToUserName": "gh_1",
        "FromUserName": "o1",
        "CreateTime": "1",
        "MsgType": "text",
        "Content": "hi",
        "MsgId": "42",
    }
    del fields[missing]
    with pytest.raises(ProtocolError) as err:
        to_message(fields)
    assert err.value.status == 400


def test_subscribe_scene_and_dedup_sources() -> None:
    base = {"ToUserName": "gh_1", "FromUserName": "o1", "CreateTime": "10", "MsgType": "event"}
    follow = to_message({**base, "Event": "subscribe", "EventKey": "qrscene_c:xinhua"})
    assert (follow.event, follow.scene) == ("subscribe", "c:xinhua")
    scan = to_message({**base, "Event": "SCAN", "EventKey": "c:xinhua"})
    assert (scan.event, scan.scene) == ("scan", "c:xinhua")
    # Events: the same user, time, event and key are one delivery; anything else differs.
    assert dedup_source(follow) == dedup_source(
        to_message({**base, "Event": "subscribe", "EventKey": "qrscene_c:xinhua"})
    )
    assert dedup_source(follow) != dedup_source(scan)
    loc1 = to_message({**base, "Event": "LOCATION", "Latitude": "1", "Longitude": "2"})
    loc2 = to_message(
        {**base, "CreateTime": "15", "Event": "LOCATION", "Latitude": "1", "Longitude": "2"}
    )
    assert dedup_source(loc1) != dedup_source(loc2)


@pytest.mark.parametrize("text", ["]]>", "a]]>b<![CDATA[c", "<xml>&amp;</xml>", "\x01bell\x07"])
def test_reply_stays_well_formed(text: str) -> None:
    xml = render_text_reply(account="gh_1", openid="o1", content=text, now=5)
    root = ElementTree.fromstring(xml)
    assert root.findtext("Content") == cdata_safe(text).replace("]]]]><![CDATA[>", "]]>")


def test_long_replies_are_clipped_on_a_character_boundary() -> None:
    from bot.protocol import MAX_REPLY_BYTES, clip

    long = "警" * 1000  # 3 000 bytes
    clipped = clip(long)
    assert len(clipped.encode()) <= MAX_REPLY_BYTES and clipped.endswith("…")
    assert clip("短") == "短"
    xml = render_text_reply(account="gh", openid="o", content=long, now=1)
    assert ElementTree.fromstring(xml).findtext("Content") == clipped
