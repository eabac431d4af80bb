"""pyrogram 2.0.106 (layer 158), pyrofork 2.3.69 (220) or hydrogram 0.2.0 (181): whichever is
installed as the `pyrogram` or `hydrogram` module of this interpreter signs up a test number
against our server (send_code, sign_in, sign_up or, for pyrofork, which has no sign_up, a raw
auth.SignUp), get_me, auth.logOut, then on a new client logs the number back in. Each client
decodes every answer with its own layer's types: anything it cannot read it logs (WARNING or
above), and the script counts those. Prints one JSON line of what it saw.

usage: pyrogram_family_login.py PUBLIC_KEY_PEM PHONE DC=HOST:PORT...

The three forks dial the built-in test addresses on port 80 (`DataCenter` in
`session/internals/data_center.py`; no connection factory in pyrogram and hydrogram): the
script routes `DataCenter` to our DCs. Keys are looked up by their signed fingerprint, which
these clients do not compute (CLIENTS.md §4).
"""

import asyncio
import hashlib
import importlib
import json
import logging
import os
import struct
import sys

try:
    import hydrogram as pyrogram
    from hydrogram import raw
    from hydrogram.crypto import mtproto, rsa as lib_rsa
except ImportError:
    import pyrogram
    from pyrogram import raw
    from pyrogram.crypto import mtproto, rsa as lib_rsa

import base64

ROUTES = {}


class Warnings(logging.Handler):
    """Counts what the client logs at WARNING and above. An ERROR (a packet the client cannot
    decode, such as a constructor its layer lacks, is one) ends the run at once, so that the
    test fails on it rather than on the request's timeout."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())
        if record.levelno >= logging.ERROR:
            fail(record.getMessage())


WARNINGS = Warnings()


def fail(text):
    print(json.dumps({"error": text}), flush=True)
    os._exit(3)


def strict_unpack(unpack):
    """The library's own decoder of incoming packets; what it cannot decode (a constructor its
    layer lacks: "The server sent an unknown constructor") ends the run at once. The library
    itself only raises it inside a task nobody awaits, and the request then times out."""

    def checked(*args, **kwargs):
        try:
            return unpack(*args, **kwargs)
        except ValueError as e:
            fail(f"{pyrogram.__name__} could not decode a packet: {e}")

    return checked


def read_pkcs1(pem):
    """(n, e) of a PKCS#1 `BEGIN RSA PUBLIC KEY` PEM: SEQUENCE { INTEGER n, INTEGER e }."""
    body = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
    der = base64.b64decode(body)

    def item(at):
        tag, size, at = der[at], der[at + 1], at + 2
        if size & 0x80:
            count = size & 0x7F
            size, at = int.from_bytes(der[at:at + count], "big"), at + count
        return tag, der[at:at + size], at + size

    tag, seq, _ = item(0)
    assert tag == 0x30, "not a PKCS#1 public key"
    der = seq
    _, n, at = item(0)
    _, e, _ = item(at)
    return int.from_bytes(n, "big"), int.from_bytes(e, "big")


def tl_bytes(data):
    """TL `bytes`: the length prefix and padding to 4."""
    head = bytes([len(data)]) if len(data) < 254 else b"\xfe" + len(data).to_bytes(3, "little")
    body = head + data
    return body + b"\0" * (-len(body) % 4)


def fingerprint(n, e):
    """SHA1(TL(n) ‖ TL(e)), its last 8 bytes as a signed little-endian int (HS-2)."""
    n = n.to_bytes((n.bit_length() + 7) // 8, "big")
    e = e.to_bytes((e.bit_length() + 7) // 8, "big")
    digest = hashlib.sha1(tl_bytes(n) + tl_bytes(e)).digest()
    return struct.unpack("<q", digest[-8:])[0]


def setup(pem_path, routes):
    for name in ("pyrogram", "hydrogram"):
        logging.getLogger(name).addHandler(WARNINGS)
    for arg in routes:
        dc, addr = arg.split("=")
        host, port = addr.rsplit(":", 1)
        ROUTES[int(dc)] = (host, int(port))
    mtproto.unpack = strict_unpack(mtproto.unpack)
    # Imported here: Kurigram, which runs `walk` with routing of its own, has no such module.
    data_center = importlib.import_module(pyrogram.__name__ + ".session.internals.data_center")
    data_center.DataCenter.__new__ = lambda cls, dc_id, *args, **kwargs: ROUTES[dc_id]
    n, e = read_pkcs1(open(pem_path).read())
    lib_rsa.server_public_keys[fingerprint(n, e)] = lib_rsa.PublicKey(n, e)


def new_client(name, **extra):
    """A test-mode, in-memory client without updates (`extra`: e.g. a connection factory)."""
    return pyrogram.Client(
        name,
        api_id=12345,
        api_hash="0123456789abcdef0123456789abcdef",
        test_mode=True,
        in_memory=True,
        no_updates=True,
        **extra,
    )


async def sign_up(app, phone, phone_code_hash, first_name, last_name):
    if hasattr(app, "sign_up"):
        return await app.sign_up(phone, phone_code_hash, first_name, last_name)
    r = await app.invoke(
        raw.functions.auth.SignUp(
            phone_number=phone, phone_code_hash=phone_code_hash, first_name=first_name,
            last_name=last_name
        )
    )
    return pyrogram.types.User._parse(app, r.user)


async def walk(new_client, phone, first_name, last_name):
    """The whole walk with clients from `new_client(name)`: sign a new test number up, read it
    back, log out, log back in on a new client. What it saw, as a dict (the Kurigram script
    runs it too)."""
    code = phone[5] * 5
    out = {}
    app = new_client("signup")
    await asyncio.wait_for(app.connect(), 60)
    sent = await asyncio.wait_for(app.send_code(phone), 30)
    out["sent_code_type"] = str(sent.type)
    try:
        signed_in = await asyncio.wait_for(app.sign_in(phone, sent.phone_code_hash, code), 30)
        out["sign_in"] = "signup required" if signed_in is False else type(signed_in).__name__
    except pyrogram.errors.PhoneNumberUnoccupied:
        out["sign_in"] = "signup required"
    user = await asyncio.wait_for(
        sign_up(app, phone, sent.phone_code_hash, first_name, last_name), 30
    )
    out["user_id"] = user.id
    out["first_name"] = user.first_name
    me = await asyncio.wait_for(app.get_me(), 30)
    out["get_me"] = me.id
    out["get_me_phone"] = me.phone_number
    state = await asyncio.wait_for(app.invoke(raw.functions.updates.GetState()), 30)
    out["state"] = type(state).__name__
    logged_out = await asyncio.wait_for(app.invoke(raw.functions.auth.LogOut()), 30)
    out["logged_out"] = bool(logged_out)
    await app.disconnect()

    app = new_client("login")
    await asyncio.wait_for(app.connect(), 60)
    sent = await asyncio.wait_for(app.send_code(phone), 30)
    again = await asyncio.wait_for(app.sign_in(phone, sent.phone_code_hash, code), 30)
    out["relogin_user_id"] = getattr(again, "id", None)
    out["relogin_get_me"] = (await asyncio.wait_for(app.get_me(), 30)).id
    await app.disconnect()
    return out


def report(out, warnings):
    """Prints the one JSON line, with the count of what the client logged at WARNING or above."""
    out["warnings"] = len(warnings.messages)
    out["first_warning"] = warnings.messages[0] if warnings.messages else ""
    print(json.dumps(out), flush=True)


async def main():
    pem_path, phone = sys.argv[1:3]
    setup(pem_path, sys.argv[3:])
    out = {"library": pyrogram.__name__, "version": pyrogram.__version__, "layer": raw.all.layer}
    out.update(await walk(new_client, phone, "Pyro", "Fork"))
    report(out, WARNINGS)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
