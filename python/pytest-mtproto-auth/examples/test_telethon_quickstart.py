import pytest
from telethon import errors, functions

PHONE = "9996621234"  # a test number: it lives on DC 2


@pytest.mark.asyncio
async def test_sign_up_then_two_step_login(mtproto, telethon_client, make_telethon_client):
    # Sign up: the code comes from the server's admin API, not from an SMS.
    sent = await telethon_client.send_code_request(PHONE)
    with pytest.raises(errors.PhoneNumberUnoccupiedError):
        await telethon_client.sign_in(PHONE, mtproto.code(PHONE))
    await telethon_client(functions.auth.SignUpRequest(
        phone_number=PHONE, phone_code_hash=sent.phone_code_hash,
        first_name="Ada", last_name="Lovelace",
    ))
    me = await telethon_client.get_me()
    assert me.phone == PHONE

    # Two-step verification on; a second client needs the password after its code.
    await telethon_client.edit_2fa(new_password="correct horse")
    second = await make_telethon_client()
    await second.send_code_request(PHONE)
    with pytest.raises(errors.SessionPasswordNeededError):
        await second.sign_in(PHONE, mtproto.code(PHONE))
    await second.sign_in(password="correct horse")
    assert (await second.get_me()).id == me.id

    # Reset: the account is gone, as after a fresh start.
    mtproto.reset()
    assert mtproto.users() == []
