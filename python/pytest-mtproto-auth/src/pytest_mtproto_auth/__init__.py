"""pytest fixtures for the mtproto-auth test DC; see `plugin` for the fixtures."""

from .clients import pyrogram_client, session_string, telethon_client
from .server import AdminError, MtprotoAuthServer, Session, find_binary

__all__ = [
    "AdminError",
    "MtprotoAuthServer",
    "Session",
    "find_binary",
    "pyrogram_client",
    "session_string",
    "telethon_client",
]
