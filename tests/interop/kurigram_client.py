"""Kurigram 2.2.26 against our server: create a key (legacy RSA, p_q_inner_data, abridged
transport), start a session (ping with salt 0, then invokeWithLayer(initConnection(
help.getConfig))) and get help.getConfig. Prints one JSON line of what it saw.

usage: kurigram_client.py PUBLIC_KEY_PEM DC=HOST:PORT...
"""

import asyncio
import logging
import sys

import pyrogram
from pyrogram import raw

from kurigram_setup import WARNINGS, LocalConnection, setup
from pyrogram_family_login import report


async def main():
    setup(sys.argv[1], sys.argv[2:])
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
    report(out, WARNINGS)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
