"""Kurigram 2.2.26 recovers a forgotten cloud password by email against our server: a test
number signed up; enable_cloud_password with a recovery email raises EmailUnconfirmed, and the
raw account.ConfirmPasswordEmail with the code from the server's emails.txt confirms it; a fresh
client's code login raises SessionPasswordNeeded; send_recovery_code() answers the masked
address; recover_password() with a wrong code raises CodeInvalid, with the mailed one logs the
client in (the password gone); get_me answers; a third client's code login goes straight in.
Prints one JSON line of what it saw.

usage: kurigram_recovery.py PUBLIC_KEY_PEM PHONE EMAILS_TXT DC=HOST:PORT...
"""

import asyncio
import logging
import sys

import pyrogram
from pyrogram import raw

from kurigram_2fa import code_step, new_client, straight_in
from kurigram_setup import WARNINGS, setup
from pyrogram_family_login import report, sign_up

EMAIL = "kuri@example.com"


def last_email_code(emails, purpose):
    """The code of the newest `unix_time address purpose code` line for EMAIL and `purpose`."""
    for line in reversed(open(emails).read().splitlines()):
        _, address, kind, code = line.split(" ")
        if address == EMAIL and kind == purpose:
            return code
    raise RuntimeError(f"no {purpose} email in {emails}")


async def main():
    pem_path, phone, emails = sys.argv[1:4]
    setup(pem_path, sys.argv[4:])
    out = {}
    owner = new_client("owner")
    await asyncio.wait_for(owner.connect(), 60)
    sent, signed_in = await code_step(owner, phone)
    assert signed_in is False, signed_in
    user = await asyncio.wait_for(sign_up(owner, phone, sent.phone_code_hash, "Kuri", "Gram"), 30)
    out["user_id"] = user.id
    try:
        await asyncio.wait_for(owner.enable_cloud_password("forget me", email=EMAIL), 30)
        out["enabled"] = "confirmed at once"
    except pyrogram.errors.BadRequest as e:
        out["enabled"] = e.ID
        out["email_code_length"] = e.value
    code = last_email_code(emails, "recovery-email")
    out["confirmed"] = await asyncio.wait_for(
        owner.invoke(raw.functions.account.ConfirmPasswordEmail(code=code)), 30
    )
    await owner.disconnect()

    fresh = new_client("fresh")
    await asyncio.wait_for(fresh.connect(), 60)
    try:
        await code_step(fresh, phone)
        out["code_login"] = "signed in"
    except pyrogram.errors.SessionPasswordNeeded:
        out["code_login"] = "SessionPasswordNeeded"
    out["pattern"] = await asyncio.wait_for(fresh.send_recovery_code(), 30)
    code = last_email_code(emails, "password-recovery")
    wrong = "000001" if code == "000000" else "000000"
    try:
        await asyncio.wait_for(fresh.recover_password(wrong), 30)
        out["wrong_code"] = "accepted"
    except pyrogram.errors.BadRequest as e:
        out["wrong_code"] = e.ID
    me = await asyncio.wait_for(fresh.recover_password(code), 30)
    out["recovered_user_id"] = me.id
    out["get_me"] = (await asyncio.wait_for(fresh.get_me(), 30)).id
    out["has_password"] = (
        await asyncio.wait_for(fresh.invoke(raw.functions.account.GetPassword()), 30)
    ).has_password
    await fresh.disconnect()
    out["after_recovery_user_id"] = await straight_in(phone)
    report(out, WARNINGS)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
