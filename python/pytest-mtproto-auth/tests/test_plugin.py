"""The plugin's own tests: every fixture and server method against a real ephemeral server,
with Telethon and with whichever Pyrogram-family client is installed (each part is skipped
only if its library is not installed in this interpreter)."""

import asyncio

import pytest

from pytest_mtproto_auth import AdminError, clients

PHONE = "9996621234"


def has(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


needs_telethon = pytest.mark.skipif(not has("telethon"), reason="Telethon not installed")
needs_pyrogram = pytest.mark.skipif(
    not (has("pyrogram") or has("hydrogram")), reason="no Pyrogram-family client installed"
)


def test_the_server_says_where_it_listens(mtproto_server):
    assert set(mtproto_server.dcs) == {1, 2, 3}
    assert mtproto_server.health()["status"] == "ok"
    assert mtproto_server.public_key_pem.startswith("-----BEGIN RSA PUBLIC KEY-----")
    n, e = clients.read_pkcs1(mtproto_server.public_key_pem)
    assert n.bit_length() == 2048 and e == 65537


def test_a_user_made_here_is_gone_in_the_next_test(mtproto):
    mtproto.create_user("9996631111", first_name="Left", last_name="Over")
    assert [u["phone"] for u in mtproto.users()] == ["9996631111"]
    with pytest.raises(AdminError) as refused:
        mtproto.create_user("9996631111")
    assert refused.value.status == 409


def test_reset_before_each_test(mtproto):
    assert mtproto.users() == []
    assert mtproto.faults() == []


@needs_telethon
@pytest.mark.asyncio
async def test_telethon_reads_codes_and_meets_faults(mtproto, telethon_client):
    from telethon import errors

    rule = mtproto.add_fault("auth.sendCode", error="FLOOD_WAIT_7", times=1)
    assert mtproto.faults()[0]["id"] == rule
    with pytest.raises(errors.FloodWaitError) as flood:
        await telethon_client.send_code_request(PHONE)
    assert flood.value.seconds == 7
    await telethon_client.send_code_request(PHONE)
    assert mtproto.code(PHONE) == "22222"
    assert mtproto.codes(phone=PHONE)[-1]["purpose"] == "login"
    # The long-poll: the next code, sent while waiting.
    waiting = asyncio.get_running_loop().run_in_executor(
        None, lambda: mtproto.next_code(phone=PHONE, timeout=20)
    )
    await asyncio.sleep(0.3)
    await telethon_client.send_code_request(PHONE)
    assert await waiting == "22222"
    assert 'mtproto_rpc_calls_total{method="auth.sendCode"}' in mtproto.metrics()


@needs_telethon
@pytest.mark.asyncio
async def test_telethon_starts_logged_in_with_a_created_session(mtproto, make_telethon_client):
    user = mtproto.create_user("9996631234", first_name="Sess", password="pw")
    assert user["dc"] == 3
    session = mtproto.create_session(user["id"])
    client = await make_telethon_client(session=session)
    me = await client.get_me()
    assert (me.id, me.first_name) == (user["id"], "Sess")
    mtproto.end_sessions(user=user["id"])
    from telethon import errors, functions, types

    with pytest.raises(errors.SessionRevokedError):
        await client(functions.users.GetUsersRequest([types.InputUserSelf()]))


@needs_telethon
@pytest.mark.asyncio
async def test_telethon_bot_login_and_seed(mtproto, make_telethon_client):
    report = mtproto.seed('[[bots]]\nname = "Echo"\nusername = "echo_bot"\n')
    assert "created" in report
    assert "exists" in mtproto.seed('[[bots]]\nname = "Echo"\nusername = "echo_bot"\n')
    bot = mtproto.create_bot("Other", username="other_bot")
    client = await make_telethon_client(dc=bot["dc"])
    me = await client.sign_in(bot_token=bot["token"])
    assert me.bot and me.username == "other_bot"


@needs_pyrogram
@pytest.mark.asyncio
async def test_pyrogram_signs_up_and_starts_logged_in(mtproto, pyrogram_client, make_pyrogram_client):
    from pytest_mtproto_auth.clients import pyrogram_module

    lib = pyrogram_module()
    raw = lib.raw
    sent = await pyrogram_client.send_code(PHONE)
    try:
        # False: sign up next (pyrofork raises PhoneNumberUnoccupied instead).
        assert await pyrogram_client.sign_in(PHONE, sent.phone_code_hash, mtproto.code(PHONE)) is False
    except lib.errors.PhoneNumberUnoccupied:
        pass
    if hasattr(pyrogram_client, "sign_up"):
        me = await pyrogram_client.sign_up(PHONE, sent.phone_code_hash, "Py", "Ro")
        user_id = me.id
    else:  # pyrofork has no sign_up
        auth = await pyrogram_client.invoke(raw.functions.auth.SignUp(
            phone_number=PHONE, phone_code_hash=sent.phone_code_hash, first_name="Py",
            last_name="Ro",
        ))
        user_id = auth.user.id
    session = mtproto.create_session(user_id)
    other = await make_pyrogram_client(session=session)
    assert (await other.get_me()).id == user_id
    mtproto.add_fault("help.getNearestDc", error="PEER_ID_INVALID", times=1)
    with pytest.raises(lib.errors.BadRequest) as failed:
        await other.invoke(raw.functions.help.GetNearestDc())
    assert "PEER_ID_INVALID" in str(failed.value)
