"""Kurigram 2.2.26 signs up a test number against our server (send_code, sign_in answering
False for signUpRequired, sign_up), get_me, auth.logOut, then on a new client logs the number
back in. Prints one JSON line of what it saw.

usage: kurigram_login.py PUBLIC_KEY_PEM PHONE DC=HOST:PORT...
"""

import asyncio
import json
import logging
import sys

import pyrogram
from pyrogram import raw
from pyrogram.connection import Connection
from pyrogram.crypto import rsa as pyrogram_rsa
from telethon.crypto import rsa as telethon_rsa
import rsa as rsa_lib

# Kurigram's fresh test-mode session dials its built-in test addresses; map them to ours.
TEST_ADDRESSES = {"149.154.175.10": 1, "149.154.167.40": 2, "149.154.175.117": 3}
ROUTES = {}


class LocalConnection(Connection):
    def __init__(self, dc_id, server_address, port, *args, **kwargs):
        dc = TEST_ADDRESSES.get(server_address, dc_id)
        host, local_port = ROUTES.get(dc, (server_address, port))
        super().__init__(dc_id, host, local_port, *args, **kwargs)


class Warnings(logging.Handler):
    """Counts what Kurigram logs at WARNING and above (e.g. a BadMsgNotification)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


WARNINGS = Warnings()


def new_client(name):
    return pyrogram.Client(
        name,
        api_id=12345,
        api_hash="0123456789abcdef0123456789abcdef",
        test_mode=True,
        in_memory=True,
        connection_factory=LocalConnection,
        no_updates=True,
    )


async def main():
    logging.getLogger("pyrogram").addHandler(WARNINGS)
    pem_path, phone = sys.argv[1:3]
    for arg in sys.argv[3:]:
        dc, addr = arg.split("=")
        host, port = addr.rsplit(":", 1)
        ROUTES[int(dc)] = (host, int(port))
    key = rsa_lib.PublicKey.load_pkcs1(open(pem_path, "rb").read())
    fingerprint = telethon_rsa._compute_fingerprint(key)
    pyrogram_rsa.server_public_keys[fingerprint] = pyrogram_rsa.PublicKey(m=key.n, e=key.e)
    code = phone[5] * 5
    out = {}

    app = new_client("signup")
    await asyncio.wait_for(app.connect(), 60)
    sent = await asyncio.wait_for(app.send_code(phone), 30)
    out["sent_code_type"] = str(sent.type)
    signed_in = await asyncio.wait_for(app.sign_in(phone, sent.phone_code_hash, code), 30)
    out["sign_in"] = "signup required" if signed_in is False else type(signed_in).__name__
    user = await asyncio.wait_for(app.sign_up(phone, sent.phone_code_hash, "Kuri", "Gram"), 30)
    out["user_id"] = user.id
    out["first_name"] = user.first_name
    me = await asyncio.wait_for(app.get_me(), 30)
    out["get_me"] = me.id
    out["logged_out"] = bool(await asyncio.wait_for(app.invoke(raw.functions.auth.LogOut()), 30))
    await app.disconnect()

    app = new_client("login")
    await asyncio.wait_for(app.connect(), 60)
    sent = await asyncio.wait_for(app.send_code(phone), 30)
    again = await asyncio.wait_for(app.sign_in(phone, sent.phone_code_hash, code), 30)
    out["relogin_user_id"] = getattr(again, "id", None)
    out["relogin_get_me"] = (await asyncio.wait_for(app.get_me(), 30)).id
    await app.disconnect()
    out["warnings"] = len(WARNINGS.messages)
    out["first_warning"] = WARNINGS.messages[0] if WARNINGS.messages else ""
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
