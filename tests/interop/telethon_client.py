"""Telethon 1.45.0 against our server: connect over one transport, help.getConfig (Telethon's
own first request, invokeWithLayer(initConnection(help.getConfig))), ping, and the 401 for
users.getUsers([inputUserSelf]) before login. Prints one JSON line of what it saw.

usage: telethon_client.py PUBLIC_KEY_PEM HOST PORT DC TRANSPORT
"""

import asyncio
import json
import logging
import sys

from telethon import functions, types, errors
from telethon.crypto import rsa
from telethon.sessions import StringSession

from telethon_setup import client_for

async def main():
    pem_path, host, port, dc, transport = sys.argv[1:6]
    rsa.add_key(open(pem_path).read(), old=False)
    session = StringSession()
    session.set_dc(int(dc), host, int(port))
    client = client_for(session, transport, "interop-test")
    out = {"transport": transport}
    await asyncio.wait_for(client.connect(), 30)
    out["connected"] = client.is_connected()
    config = await client(functions.help.GetConfigRequest())
    out["this_dc"] = config.this_dc
    out["test_mode"] = bool(config.test_mode)
    out["dc_options"] = ",".join(
        f"{o.id}={o.ip_address}:{o.port}" for o in config.dc_options
    )
    pong = await client(functions.PingRequest(ping_id=424242))
    out["pong_ping_id"] = pong.ping_id
    try:
        await client(functions.users.GetUsersRequest([types.InputUserSelf()]))
        out["get_users"] = "answered"
    except errors.RPCError as e:
        out["get_users"] = f"{e.code} {type(e).__name__}"
    out["authorized"] = await client.is_user_authorized()
    await client.disconnect()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
