"""What the Telethon scripts share: the four transports by name and a client for a session."""

from telethon import TelegramClient, connection

TRANSPORTS = {
    "full": connection.ConnectionTcpFull,
    "abridged": connection.ConnectionTcpAbridged,
    "intermediate": connection.ConnectionTcpIntermediate,
    "obfuscated": connection.ConnectionTcpObfuscated,
}


def client_for(session, transport, device_model):
    return TelegramClient(
        session,
        api_id=12345,
        api_hash="0123456789abcdef0123456789abcdef",
        connection=TRANSPORTS[transport],
        device_model=device_model,
        system_version="linux",
        app_version="1.0",
        lang_code="en",
        system_lang_code="en",
        receive_updates=False,
        connection_retries=1,
        retry_delay=0,
        timeout=10,
    )
