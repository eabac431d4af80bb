"""Kurigram 2.2.26 signs up a test number against our server (send_code, sign_in answering
False for signUpRequired, sign_up), get_me, auth.logOut, then on a new client logs the number
back in (the walk of pyrogram_family_login.py, with Kurigram's own routing and key table).
Prints one JSON line of what it saw.

usage: kurigram_login.py PUBLIC_KEY_PEM PHONE DC=HOST:PORT...
"""

import asyncio
import logging
import sys

from kurigram_setup import WARNINGS, LocalConnection, setup
from pyrogram_family_login import new_client as family_client, report, walk


def new_client(name):
    return family_client(name, connection_factory=LocalConnection)


async def main():
    pem_path, phone = sys.argv[1:3]
    setup(pem_path, sys.argv[3:])
    report(await walk(new_client, phone, "Kuri", "Gram"), WARNINGS)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
