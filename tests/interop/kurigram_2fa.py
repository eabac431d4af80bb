"""Kurigram 2.2.26's two-step verification against our server: a test number signed up,
enable_cloud_password; a fresh client's code login raises SessionPasswordNeeded, check_password
wrong then right; change_cloud_password; remove_cloud_password; a third client's code login goes
straight in. Prints one JSON line of what it saw.

usage: kurigram_2fa.py PUBLIC_KEY_PEM PHONE DC=HOST:PORT...
"""

import asyncio
import logging
import sys

import pyrogram

from kurigram_setup import WARNINGS, LocalConnection, setup
from pyrogram_family_login import new_client as family_client, report, sign_up


def new_client(name):
    return family_client(name, connection_factory=LocalConnection)


async def code_step(app, phone):
    sent = await asyncio.wait_for(app.send_code(phone), 30)
    return sent, await asyncio.wait_for(app.sign_in(phone, sent.phone_code_hash, phone[5] * 5), 30)


async def straight_in(phone):
    """A new client's code login, which needs no password now: the user id it got."""
    third = new_client("third")
    await asyncio.wait_for(third.connect(), 60)
    _, again = await code_step(third, phone)
    await third.disconnect()
    return getattr(again, "id", None)


async def main():
    pem_path, phone = sys.argv[1:3]
    setup(pem_path, sys.argv[3:])
    out = {}
    owner = new_client("owner")
    await asyncio.wait_for(owner.connect(), 60)
    sent, signed_in = await code_step(owner, phone)
    assert signed_in is False, signed_in
    user = await asyncio.wait_for(sign_up(owner, phone, sent.phone_code_hash, "Kuri", "Gram"), 30)
    out["user_id"] = user.id
    out["enabled"] = await asyncio.wait_for(
        owner.enable_cloud_password("correct horse", hint="horse"), 30
    )
    await owner.disconnect()

    fresh = new_client("fresh")
    await asyncio.wait_for(fresh.connect(), 60)
    try:
        await code_step(fresh, phone)
        out["code_login"] = "signed in"
    except pyrogram.errors.SessionPasswordNeeded:
        out["code_login"] = "SessionPasswordNeeded"
    try:
        await asyncio.wait_for(fresh.check_password("wrong horse"), 30)
        out["wrong_password"] = "accepted"
    except pyrogram.errors.PasswordHashInvalid:
        out["wrong_password"] = "PasswordHashInvalid"
    me = await asyncio.wait_for(fresh.check_password("correct horse"), 30)
    out["password_login_user_id"] = me.id
    out["changed"] = await asyncio.wait_for(
        fresh.change_cloud_password("correct horse", "battery staple"), 30
    )
    out["removed"] = await asyncio.wait_for(fresh.remove_cloud_password("battery staple"), 30)
    await fresh.disconnect()
    out["after_removal_user_id"] = await straight_in(phone)
    report(out, WARNINGS)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
