"""Kurigram 2.2.26 against our server: create a key (legacy RSA, p_q_inner_data, abridged
transport), start a session (ping with salt 0, then invokeWithLayer(initConnection(
help.getConfig))) and get help.getConfig. Prints one JSON line of what it saw.

usage: kurigram_client.py PUBLIC_KEY_PEM DC=HOST:PORT...
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


async def main():
    logging.getLogger("pyrogram").addHandler(WARNINGS)
    pem_path = sys.argv[1]
    for arg in sys.argv[2:]:
        dc, addr = arg.split("=")
        host, port = addr.rsplit(":", 1)
        ROUTES[int(dc)] = (host, int(port))
    key = rsa_lib.PublicKey.load_pkcs1(open(pem_path, "rb").read())
    # Kurigram does not compute fingerprints (CLIENTS.md §4): Telethon's function does it.
    fingerprint = telethon_rsa._compute_fingerprint(key)
    pyrogram_rsa.server_public_keys[fingerprint] = pyrogram_rsa.PublicKey(m=key.n, e=key.e)
    app = pyrogram.Client(
        "interop",
        api_id=12345,
        api_hash="0123456789abcdef0123456789abcdef",
        test_mode=True,
        in_memory=True,
        connection_factory=LocalConnection,
        no_updates=True,
    )
    out = {}
    await asyncio.wait_for(app.connect(), 60)
    out["connected"] = app.is_connected
    config = await asyncio.wait_for(app.invoke(raw.functions.help.GetConfig()), 30)
    out["this_dc"] = config.this_dc
    out["test_mode"] = bool(config.test_mode)
    out["dc_count"] = len(config.dc_options)
    await app.disconnect()
    out["warnings"] = len(WARNINGS.messages)
    out["first_warning"] = WARNINGS.messages[0] if WARNINGS.messages else ""
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
