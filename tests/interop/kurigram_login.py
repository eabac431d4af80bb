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

from kurigram_setup import WARNINGS, LocalConnection, setup


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
    pem_path, phone = sys.argv[1:3]
    setup(pem_path, sys.argv[3:])
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
