import pytest
from pyrogram import errors

PHONE = "9996621234"  # a test number: it lives on DC 2


@pytest.mark.asyncio
async def test_sign_up_then_two_step_login(mtproto, pyrogram_client, make_pyrogram_client):
    # Sign up: the code comes from the server's admin API, not from an SMS.
    sent = await pyrogram_client.send_code(PHONE)
    signed_in = await pyrogram_client.sign_in(PHONE, sent.phone_code_hash, mtproto.code(PHONE))
    assert signed_in is False  # no account yet: sign up
    me = await pyrogram_client.sign_up(PHONE, sent.phone_code_hash, "Ada", "Lovelace")
    assert me.phone_number == PHONE

    # Two-step verification on; a second client needs the password after its code.
    await pyrogram_client.enable_cloud_password("correct horse")
    second = await make_pyrogram_client()
    sent = await second.send_code(PHONE)
    with pytest.raises(errors.SessionPasswordNeeded):
        await second.sign_in(PHONE, sent.phone_code_hash, mtproto.code(PHONE))
    assert (await second.check_password("correct horse")).id == me.id

    # Reset: the account is gone, as after a fresh start.
    mtproto.reset()
    assert mtproto.users() == []
