"""Kurigram 2.2.26 logs a bot in with `bot_token=` against our server: a test-mode client
started with the token (its sign_in_bot runs auth.importBotAuthorization, follows USER_MIGRATE
to the bot's DC and imports there), then get_me. Prints one JSON line of what it saw.

usage: kurigram_bot.py PUBLIC_KEY_PEM TOKEN DC=HOST:PORT...
"""

import asyncio
import logging
import sys

from kurigram_setup import WARNINGS, LocalConnection, setup
from pyrogram_family_login import new_client, report


async def main():
    pem_path, token = sys.argv[1:3]
    setup(pem_path, sys.argv[3:])
    app = new_client("bot", bot_token=token, connection_factory=LocalConnection)
    await asyncio.wait_for(app.start(), 60)
    me = await asyncio.wait_for(app.get_me(), 30)
    out = {
        "bot_id": me.id,
        "is_bot": me.is_bot,
        "username": me.username,
        "first_name": me.first_name,
        "dc": await app.storage.dc_id(),
    }
    await app.stop()
    report(out, WARNINGS)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
