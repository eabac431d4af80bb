"""What the Kurigram scripts share: the routing of Kurigram's built-in test addresses to our
DCs, our public key registered under its signed fingerprint (Kurigram does not compute
fingerprints; Telethon's function does, CLIENTS.md §4), and a count of Kurigram's warnings.
"""

import logging

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


def setup(pem_path, routes):
    """Registers our key and routes `DC=HOST:PORT` arguments; starts counting warnings."""
    logging.getLogger("pyrogram").addHandler(WARNINGS)
    for arg in routes:
        dc, addr = arg.split("=")
        host, port = addr.rsplit(":", 1)
        ROUTES[int(dc)] = (host, int(port))
    key = rsa_lib.PublicKey.load_pkcs1(open(pem_path, "rb").read())
    fingerprint = telethon_rsa._compute_fingerprint(key)
    pyrogram_rsa.server_public_keys[fingerprint] = pyrogram_rsa.PublicKey(m=key.n, e=key.e)
