"""Telethon 1.45.0 logs in against our server. Prints one JSON line of what it saw.

usage:
  telethon_login.py PUBLIC_KEY_PEM HOST PORT DC TRANSPORT PHONE signup
      send_code_request; sign_in (PhoneNumberUnoccupiedError: Telethon turns signUpRequired into
      it); raw auth.SignUpRequest (Telethon's sign_up helper refuses); get_me; log_out; then
      send_code_request and sign_in again; get_me; prints the StringSession.
  telethon_login.py PUBLIC_KEY_PEM HOST PORT DC TRANSPORT PHONE migrate
      the same sign-up, started on DC, following PHONE_MIGRATE_X to the phone's DC.
  telethon_login.py PUBLIC_KEY_PEM HOST PORT DC TRANSPORT PHONE resume SESSION
      connects with a saved StringSession and asks get_me.
  telethon_login.py PUBLIC_KEY_PEM HOST PORT DC TRANSPORT PHONE 2fa EMAILS_TXT
      the same sign-up; edit_2fa(new_password=..., email=...) turns a password on with a
      recovery email, its email_code_callback reading the code from the server's EMAILS_TXT;
      account.GetPasswordRequest then says has_recovery; a second client's
      code login raises SessionPasswordNeededError, sign_in(password=...) wrong then right;
      edit_2fa(current_password=..., new_password=None) turns it off; a third client's code
      login goes straight in.
  telethon_login.py PUBLIC_KEY_PEM HOST PORT DC TRANSPORT PHONE token
      the same sign-up; a raw auth.LogOutRequest hands out a future auth token; a new client's
      auth.SendCodeRequest with it in CodeSettings.logout_tokens gets auth.sentCodeSuccess, and
      get_me answers; the same token again gets an ordinary auth.sentCode.
  telethon_login.py PUBLIC_KEY_PEM HOST PORT DC TRANSPORT PHONE email EMAILS_TXT
      the same sign-up; raw account.SendVerifyEmailCodeRequest + VerifyEmailRequest
      (emailVerifyPurposeLoginChange, the code from EMAILS_TXT) set a login email; a second
      client's send_code_request answers SentCodeTypeEmailCode, and a raw auth.SignInRequest
      with email_verification logs it in; a third client's auth.ResetLoginEmailRequest gets an
      SMS code under the same hash and sign_in takes it.
  telethon_login.py PUBLIC_KEY_PEM HOST PORT DC TRANSPORT PHONE qr OTHER_HOST:OTHER_PORT
      the same sign-up; a fresh client on the same DC runs qr_login() and wait() while the first
      accepts its token (auth.AcceptLoginTokenRequest): logged in, get_me answers; then a fresh
      client on the other DC (OTHER_HOST:OTHER_PORT, DC 1) does the same, and wait() follows
      loginTokenMigrateTo to the user's DC and imports the token there.
  telethon_login.py PUBLIC_KEY_PEM HOST PORT DC TRANSPORT PHONE transfer
      the same sign-up on DC 2; Telethon's own _borrow_exported_sender(3) (help.getConfig's
      address, auth.exportAuthorization here, auth.importAuthorization inside initConnection
      there) and users.getUsers([self]) through it; an explicit ExportAuthorizationRequest for
      DC 2 itself answers DC_ID_INVALID.
  telethon_login.py PUBLIC_KEY_PEM HOST PORT DC TRANSPORT - bot TOKEN
      start(bot_token=TOKEN) on a fresh session (USER_MIGRATE followed to the bot's DC), then
      get_me: the bot, its username.
Test numbers 99966XYYYY get the code XXXXX.
"""

import asyncio
import json
import logging
import sys

from telethon import functions, errors, types
from telethon.crypto import rsa
from telethon.sessions import StringSession

import telethon_setup

def client_for(session, transport):
    return telethon_setup.client_for(session, transport, "interop-login")


def code_for(phone):
    return phone[5] * 5


async def sign_up(client, phone, out):
    sent = await client.send_code_request(phone)
    out["sent_code_type"] = type(sent.type).__name__
    try:
        await client.sign_in(phone, code_for(phone))
        out["sign_in"] = "signed in"
    except errors.PhoneNumberUnoccupiedError:
        out["sign_in"] = "unoccupied"
        await client(
            functions.auth.SignUpRequest(
                phone_number=phone,
                phone_code_hash=sent.phone_code_hash,
                first_name="Tele",
                last_name="Thon",
            )
        )
    me = await client.get_me()
    out["user_id"] = me.id
    out["first_name"] = me.first_name
    out["phone"] = me.phone
    out["is_self"] = bool(me.is_self)


async def two_step(phone, dc, host, port, transport, first, out, emails):
    def email_code(length):
        out["email_code_length"] = length
        return open(emails).read().split()[-1]

    out["set"] = await first.edit_2fa(
        new_password="correct horse", hint="horse", email="tele@example.com",
        email_code_callback=email_code,
    )
    out["has_recovery"] = (await first(functions.account.GetPasswordRequest())).has_recovery
    second = fresh_client(dc, host, port, transport)
    await asyncio.wait_for(second.connect(), 30)
    await second.send_code_request(phone)
    try:
        await second.sign_in(phone, code_for(phone))
        out["code_login"] = "signed in"
    except errors.SessionPasswordNeededError:
        out["code_login"] = "SessionPasswordNeededError"
    try:
        await second.sign_in(password="wrong horse")
        out["wrong_password"] = "accepted"
    except errors.PasswordHashInvalidError:
        out["wrong_password"] = "PasswordHashInvalidError"
    me = await second.sign_in(password="correct horse")
    out["password_login_user_id"] = me.id
    out["removed"] = await second.edit_2fa(current_password="correct horse", new_password=None)
    third = fresh_client(dc, host, port, transport)
    await asyncio.wait_for(third.connect(), 30)
    await third.send_code_request(phone)
    out["after_removal_user_id"] = (await third.sign_in(phone, code_for(phone))).id
    for c in (second, third):
        await c.disconnect()


async def token_login(phone, dc, host, port, transport, first, out):
    logged_out = await first(functions.auth.LogOutRequest())
    token = logged_out.future_auth_token
    out["token_length"] = len(token or b"")
    second = fresh_client(dc, host, port, transport)
    await asyncio.wait_for(second.connect(), 30)
    settings = types.CodeSettings(logout_tokens=[token])
    sent = await second(
        functions.auth.SendCodeRequest(phone, second.api_id, second.api_hash, settings)
    )
    out["token_login"] = type(sent).__name__
    out["token_get_me"] = (await second.get_me()).id
    third = fresh_client(dc, host, port, transport)
    await asyncio.wait_for(third.connect(), 30)
    again = await third(
        functions.auth.SendCodeRequest(phone, third.api_id, third.api_hash, settings)
    )
    out["token_again"] = type(again).__name__
    for c in (second, third):
        await c.disconnect()


async def login_email(phone, dc, host, port, transport, first, out, emails):
    address = "tele.login@example.com"
    change = types.EmailVerifyPurposeLoginChange()
    sent = await first(functions.account.SendVerifyEmailCodeRequest(change, address))
    out["verify_code_length"] = sent.length
    code = open(emails).read().split()[-1]
    verified = await first(
        functions.account.VerifyEmailRequest(change, types.EmailVerificationCode(code))
    )
    out["verified"] = verified.email
    second = fresh_client(dc, host, port, transport)
    await asyncio.wait_for(second.connect(), 30)
    sent = await second.send_code_request(phone)
    out["email_code_type"] = type(sent.type).__name__
    out["email_pattern"] = getattr(sent.type, "email_pattern", None)
    auth = await second(
        functions.auth.SignInRequest(
            phone,
            sent.phone_code_hash,
            email_verification=types.EmailVerificationCode(code_for(phone)),
        )
    )
    out["email_login_user_id"] = auth.user.id
    out["email_get_me"] = (await second.get_me()).id
    third = fresh_client(dc, host, port, transport)
    await asyncio.wait_for(third.connect(), 30)
    sent = await third.send_code_request(phone)
    by_sms = await third(functions.auth.ResetLoginEmailRequest(phone, sent.phone_code_hash))
    out["reset_code_type"] = type(by_sms.type).__name__
    out["reset_login_user_id"] = (await third.sign_in(phone, code_for(phone))).id
    for c in (second, third):
        await c.disconnect()


async def qr_once(exporter, acceptor, out, name):
    """exporter shows a QR token, acceptor accepts it while exporter waits; the user exporter
    ends logged in as."""
    await asyncio.wait_for(exporter.connect(), 30)
    qr = await exporter.qr_login()
    out[name + "_url_prefix"] = qr.url.split("=")[0]
    waiting = asyncio.ensure_future(qr.wait(20))
    await asyncio.sleep(0.2)
    accepted = await acceptor(functions.auth.AcceptLoginTokenRequest(qr.token))
    out[name + "_accepted_hash_nonzero"] = accepted.hash != 0
    user = await waiting
    out[name + "_user_id"] = user.id
    out[name + "_get_me"] = (await exporter.get_me()).id
    out[name + "_dc"] = exporter.session.dc_id
    await exporter.disconnect()


async def qr_logins(dc, host, port, transport, first, out, other):
    await qr_once(fresh_client(dc, host, port, transport), first, out, "qr")
    other_host, other_port = other.rsplit(":", 1)
    await qr_once(fresh_client(1, other_host, other_port, transport), first, out, "qr_other_dc")


async def transfer(client, out):
    sender = await client._borrow_exported_sender(3)
    users = await sender.send(functions.users.GetUsersRequest([types.InputUserSelf()]))
    out["borrowed_dc"] = sender.dc_id
    out["borrowed_user_id"] = users[0].id
    await client._return_exported_sender(sender)
    try:
        await client(functions.auth.ExportAuthorizationRequest(client.session.dc_id))
        out["export_here"] = "exported"
    except errors.RPCError as e:
        out["export_here"] = type(e).__name__


def fresh_client(dc, host, port, transport):
    session = StringSession()
    session.set_dc(int(dc), host, int(port))
    return client_for(session, transport)


async def main():
    pem_path, host, port, dc, transport, phone, mode = sys.argv[1:8]
    rsa.add_key(open(pem_path).read(), old=False)
    out = {"transport": transport, "mode": mode}
    if mode == "resume":
        session = StringSession(sys.argv[8])
    else:
        session = StringSession()
        session.set_dc(int(dc), host, int(port))
    client = client_for(session, transport)
    await asyncio.wait_for(client.connect(), 30)
    if mode == "bot":
        await client.start(bot_token=sys.argv[8])
        me = await client.get_me()
        out.update(bot_id=me.id, is_bot=bool(me.bot), username=me.username,
                   first_name=me.first_name, dc=client.session.dc_id)
    elif mode == "resume":
        out["authorized"] = await client.is_user_authorized()
        me = await client.get_me()
        out["user_id"] = me.id if me else None
    else:
        await sign_up(client, phone, out)
        out["dc"] = client.session.dc_id
        if mode == "2fa":
            await two_step(phone, dc, host, port, transport, client, out, sys.argv[8])
        if mode == "transfer":
            await transfer(client, out)
        if mode == "qr":
            await qr_logins(dc, host, port, transport, client, out, sys.argv[8])
        if mode == "email":
            await login_email(phone, dc, host, port, transport, client, out, sys.argv[8])
        if mode == "token":
            await token_login(phone, dc, host, port, transport, client, out)
        if mode == "signup":
            out["logged_out"] = await client.log_out()
            # log_out disconnects and forgets the key: a new client makes a new one.
            session = StringSession()
            session.set_dc(int(dc), host, int(port))
            client = client_for(session, transport)
            await asyncio.wait_for(client.connect(), 30)
            out["authorized_after_logout"] = await client.is_user_authorized()
            await client.send_code_request(phone)
            me = await client.sign_in(phone, code_for(phone))
            out["relogin_user_id"] = me.id
            out["relogin_get_me"] = (await client.get_me()).id
            out["session"] = client.session.save()
    await client.disconnect()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
