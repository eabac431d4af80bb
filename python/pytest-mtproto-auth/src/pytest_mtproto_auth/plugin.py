"""The pytest fixtures (registered by the `pytest11` entry point):

- `mtproto_server` (session): one ephemeral server for the whole run (`MtprotoAuthServer`).
- `mtproto` (function): the same server, reset before the test: no users, keys, sessions,
  codes, counters or fault rules left from another test.
- `telethon_client` / `pyrogram_client` (function, async): a connected client on DC 2 (where
  the test numbers 99966 2 YYYY live), disconnected after the test.
- `make_telethon_client` / `make_pyrogram_client` (function, async): factories for more
  clients, on another DC (`dc=3`) or already logged in (`session=mtproto.create_session(id)`);
  each is connected, and disconnected after the test.

Options: `--mtproto-auth-bin PATH` (or `MTPROTO_AUTH_BIN`) names the server binary;
`--mtproto-auth-dcs N` the DC count (3).
"""

import pytest
import pytest_asyncio

from . import clients
from .server import MtprotoAuthServer


def pytest_addoption(parser):
    group = parser.getgroup("mtproto-auth")
    group.addoption(
        "--mtproto-auth-bin", default=None,
        help="the mtproto-auth binary (default: $MTPROTO_AUTH_BIN, PATH, target/{release,debug})",
    )
    group.addoption(
        "--mtproto-auth-dcs", type=int, default=3, help="DCs the server runs (default: 3)",
    )


@pytest.fixture(scope="session")
def mtproto_server(request):
    server = MtprotoAuthServer.start(
        binary=request.config.getoption("--mtproto-auth-bin"),
        dcs=request.config.getoption("--mtproto-auth-dcs"),
    )
    yield server
    server.stop()


@pytest.fixture
def mtproto(mtproto_server):
    mtproto_server.reset()
    return mtproto_server


async def _disconnect_all(made, disconnect):
    for client in made:
        try:
            await disconnect(client)
        except Exception:  # a test may have disconnected or logged out already
            pass


@pytest_asyncio.fixture
async def make_telethon_client(mtproto):
    made = []

    async def make(dc=2, session=None, **kwargs):
        client = clients.telethon_client(mtproto, dc=dc, session=session, **kwargs)
        await client.connect()
        made.append(client)
        return client

    yield make
    await _disconnect_all(made, lambda c: c.disconnect())


@pytest_asyncio.fixture
async def telethon_client(make_telethon_client):
    return await make_telethon_client()


@pytest_asyncio.fixture
async def make_pyrogram_client(mtproto):
    made = []

    async def make(session=None, name=None, **kwargs):
        client = clients.pyrogram_client(
            mtproto, name=name or f"test{len(made)}", session=session, **kwargs
        )
        await client.connect()
        made.append(client)
        return client

    yield make

    async def disconnect(c):
        if c.is_connected:
            await c.disconnect()

    await _disconnect_all(made, disconnect)


@pytest_asyncio.fixture
async def pyrogram_client(make_pyrogram_client):
    return await make_pyrogram_client()
