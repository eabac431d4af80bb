"""Stock clients pointed at a `MtprotoAuthServer`: its RSA key registered the way each library
looks keys up, its DC addresses in place of Telegram's, test mode on.

- Telethon: the key through `telethon.crypto.rsa.add_key`, the DC in a `StringSession`.
- The Pyrogram family (Kurigram, pyrogram, pyrofork, hydrogram): the key under its signed
  fingerprint in `crypto.rsa.server_public_keys` (these clients do not compute fingerprints);
  Kurigram's connections through a `connection_factory` that swaps its built-in test addresses
  for ours, the others' `DataCenter` lookup routed to ours.
"""

import base64
import importlib
import struct

API_ID = 12345
API_HASH = "0123456789abcdef0123456789abcdef"

# Telegram's test DC addresses, which a fresh test-mode Pyrogram-family session dials.
TEST_ADDRESSES = {"149.154.175.10": 1, "149.154.167.40": 2, "149.154.175.117": 3}


def read_pkcs1(pem):
    """(n, e) of a PKCS#1 `BEGIN RSA PUBLIC KEY` PEM: SEQUENCE { INTEGER n, INTEGER e }."""
    body = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
    der = base64.b64decode(body)

    def item(data, at):
        size, at = data[at + 1], at + 2
        if size & 0x80:
            count = size & 0x7F
            size, at = int.from_bytes(data[at:at + count], "big"), at + count
        return data[at:at + size], at + size

    seq, _ = item(der, 0)
    n, at = item(seq, 0)
    e, _ = item(seq, at)
    return int.from_bytes(n, "big"), int.from_bytes(e, "big")


# Telethon.

def telethon_client(server, dc=2, session=None, **kwargs):
    """A Telethon `TelegramClient` (not connected) for DC `dc` of `server`, or for the
    logged-in `session` (a `Session` from `server.create_session`)."""
    from telethon import TelegramClient
    from telethon.crypto import AuthKey, rsa
    from telethon.sessions import StringSession

    rsa.add_key(server.public_key_pem, old=False)
    string = StringSession()
    if session is not None:
        string.set_dc(session.dc, session.host, session.port)
        string.auth_key = AuthKey(session.auth_key)
    else:
        host, port = server.dcs[dc]
        string.set_dc(dc, host, port)
    # flood_sleep_threshold=0: a FLOOD_WAIT reaches the test instead of being slept through.
    options = dict(
        api_id=API_ID, api_hash=API_HASH, receive_updates=False,
        connection_retries=2, retry_delay=0, timeout=10, flood_sleep_threshold=0,
    )
    options.update(kwargs)
    return TelegramClient(string, **options)


# The Pyrogram family.

def pyrogram_module():
    """Whichever Pyrogram-family module is installed (`pyrogram` or `hydrogram`)."""
    try:
        return importlib.import_module("pyrogram")
    except ImportError:
        return importlib.import_module("hydrogram")


_ROUTES = {}


def _route(lib, server):
    """Points the library's DC lookup at `server` (once per process: the last server wins)."""
    _ROUTES.clear()
    _ROUTES.update(server.dcs)
    n, e = read_pkcs1(server.public_key_pem)
    rsa = importlib.import_module(lib.__name__ + ".crypto.rsa")
    rsa.server_public_keys[server.fingerprint] = rsa.PublicKey(n, e)
    try:
        data_center = importlib.import_module(lib.__name__ + ".session.internals.data_center")
    except ImportError:
        return  # Kurigram: routed by its connection factory instead
    if not getattr(data_center.DataCenter, "_mtproto_auth", False):
        data_center.DataCenter.__new__ = lambda cls, dc_id, *a, **k: _ROUTES[dc_id]
        data_center.DataCenter._mtproto_auth = True


def _connection_factory(lib):
    """Kurigram's: a `Connection` that dials our DC where Kurigram dials a test address."""
    base = importlib.import_module(lib.__name__ + ".connection").Connection

    class LocalConnection(base):
        def __init__(self, dc_id, server_address, port, *args, **kwargs):
            dc = TEST_ADDRESSES.get(server_address, dc_id)
            host, local_port = _ROUTES.get(dc, (server_address, port))
            super().__init__(dc_id, host, local_port, *args, **kwargs)

    return LocalConnection


def session_string(session, api_id=API_ID):
    """A Pyrogram-family session string for a `Session` (dc, api_id, test_mode, auth_key,
    user_id, is_bot: `>BI?256sQ?`)."""
    packed = struct.pack(
        ">BI?256sQ?", session.dc, api_id, True, session.auth_key, session.user_id, session.bot
    )
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def pyrogram_client(server, name="test", session=None, **kwargs):
    """A Pyrogram-family `Client` (not connected), in memory, test mode, for `server`; with
    `session`, already logged in as its user."""
    import inspect

    lib = pyrogram_module()
    _route(lib, server)
    options = dict(
        api_id=API_ID, api_hash=API_HASH, test_mode=True, in_memory=True, no_updates=True,
    )
    if "connection_factory" in inspect.signature(lib.Client.__init__).parameters:
        options["connection_factory"] = _connection_factory(lib)
    if session is not None:
        options["session_string"] = session_string(session)
    options.update(kwargs)
    return lib.Client(name, **options)
