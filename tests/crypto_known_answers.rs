//! Known answers for the MTProto 2.0 envelope: the KDF for both directions, a client message
//! encrypted with fixed padding, and a real server message decrypted (vectors as published in
//! grammers-crypto's tests, an implementation independent of ours).

use mtproto_auth::crypto::{
    decrypt_message, encrypt_message, ige_encrypt, message_key_iv, msg_key, AuthKey, EnvelopeError,
};
use mtproto_auth::Side;

fn counting_key() -> AuthKey {
    AuthKey::from_bytes(std::array::from_fn(|i| i as u8))
}

#[test]
fn kdf_for_both_directions() {
    let msg_key: [u8; 16] = std::array::from_fn(|i| i as u8);
    assert_eq!(
        message_key_iv(&counting_key(), &msg_key, Side::Client),
        (
            [
                112, 78, 208, 156, 139, 65, 102, 138, 232, 249, 157, 36, 71, 56, 247, 29, 189, 220,
                68, 70, 155, 107, 189, 74, 168, 87, 61, 208, 66, 189, 5, 158
            ],
            [
                77, 38, 96, 0, 165, 80, 237, 171, 191, 76, 124, 228, 15, 208, 4, 60, 201, 34, 48,
                24, 76, 211, 23, 165, 204, 156, 36, 130, 253, 59, 147, 24
            ],
        )
    );
    assert_eq!(
        message_key_iv(&counting_key(), &msg_key, Side::Server),
        (
            [
                33, 119, 37, 121, 155, 36, 88, 6, 69, 129, 116, 161, 252, 251, 200, 131, 144, 104,
                7, 177, 80, 51, 253, 208, 234, 43, 77, 105, 207, 156, 54, 78
            ],
            [
                102, 154, 101, 56, 145, 122, 79, 165, 108, 163, 35, 96, 164, 49, 201, 22, 11, 228,
                173, 136, 113, 64, 152, 13, 171, 145, 206, 123, 220, 71, 255, 188
            ],
        )
    );
}

#[test]
fn client_message_with_fixed_padding() {
    let mut out = Vec::new();
    encrypt_message(
        &counting_key(),
        Side::Client,
        b"Hello, world! This data should remain secure!",
        &[0; 32],
        &mut out,
    );
    let expected: [u8; 88] = [
        50, 209, 88, 110, 164, 87, 223, 200, 168, 23, 41, 212, 109, 181, 64, 25, 162, 191, 215,
        247, 68, 249, 185, 108, 79, 113, 108, 253, 196, 71, 125, 178, 162, 193, 95, 109, 219, 133,
        35, 95, 185, 85, 47, 29, 132, 7, 198, 170, 234, 0, 204, 132, 76, 90, 27, 246, 172, 68, 183,
        155, 94, 220, 42, 35, 134, 139, 61, 96, 115, 165, 144, 153, 44, 15, 41, 117, 36, 61, 86,
        62, 161, 128, 210, 24, 238, 117, 124, 154,
    ];
    assert_eq!(out, expected);
}

const SERVER_KEY: [u8; 256] = [
    93, 46, 125, 101, 244, 158, 194, 139, 208, 41, 168, 135, 97, 234, 39, 184, 164, 199, 159, 18,
    34, 101, 37, 68, 62, 125, 124, 89, 110, 243, 48, 53, 48, 219, 33, 7, 232, 154, 169, 151, 199,
    160, 22, 74, 182, 148, 24, 122, 222, 255, 21, 107, 214, 239, 113, 24, 161, 150, 35, 71, 117,
    60, 14, 126, 137, 160, 53, 75, 142, 195, 100, 249, 153, 126, 113, 188, 105, 35, 251, 134, 232,
    228, 52, 145, 224, 16, 96, 106, 108, 232, 69, 226, 250, 1, 148, 9, 119, 239, 10, 163, 42, 223,
    90, 151, 219, 246, 212, 40, 236, 4, 52, 215, 23, 162, 211, 173, 25, 98, 44, 192, 88, 135, 100,
    33, 19, 199, 150, 95, 251, 134, 42, 62, 60, 203, 10, 185, 90, 221, 218, 87, 248, 146, 69, 219,
    215, 107, 73, 35, 72, 248, 233, 75, 213, 167, 192, 224, 184, 72, 8, 82, 60, 253, 30, 168, 11,
    50, 254, 154, 209, 152, 188, 46, 16, 63, 206, 183, 213, 36, 146, 236, 192, 39, 58, 40, 103, 75,
    201, 35, 238, 229, 146, 101, 171, 23, 160, 2, 223, 31, 74, 162, 197, 155, 129, 154, 94, 94, 29,
    16, 94, 193, 23, 51, 111, 92, 118, 198, 177, 135, 3, 125, 75, 66, 112, 206, 233, 204, 33, 7,
    29, 151, 233, 188, 162, 32, 198, 215, 176, 27, 153, 140, 242, 229, 205, 185, 165, 14, 205, 161,
    133, 42, 54, 230, 53, 105, 12, 142,
];

const SERVER_FRAME: [u8; 168] = [
    122, 113, 131, 194, 193, 14, 79, 77, 249, 69, 250, 154, 154, 189, 53, 231, 195, 132, 11, 97,
    240, 69, 48, 79, 57, 103, 76, 25, 192, 226, 9, 120, 79, 80, 246, 34, 106, 7, 53, 41, 214, 117,
    201, 44, 191, 11, 250, 140, 153, 167, 155, 63, 57, 199, 42, 93, 154, 2, 109, 67, 26, 183, 64,
    124, 160, 78, 204, 85, 24, 125, 108, 69, 241, 120, 113, 82, 78, 221, 144, 206, 160, 46, 215,
    40, 225, 77, 124, 177, 138, 234, 42, 99, 97, 88, 240, 148, 89, 169, 67, 119, 16, 216, 148, 199,
    159, 54, 140, 78, 129, 100, 183, 100, 126, 169, 134, 18, 174, 254, 148, 44, 93, 146, 18, 26,
    203, 141, 176, 45, 204, 206, 182, 109, 15, 135, 32, 172, 18, 160, 109, 176, 88, 43, 253, 149,
    91, 227, 79, 54, 81, 24, 227, 186, 184, 205, 8, 12, 230, 180, 91, 40, 234, 197, 109, 205, 42,
    41, 55, 78,
];

/// The plaintext of SERVER_FRAME including its padding, as the vector gives it.
const SERVER_PLAINTEXT: [u8; 144] = [
    252, 130, 106, 2, 36, 139, 40, 253, 96, 242, 196, 130, 36, 67, 173, 104, 1, 240, 193, 194, 145,
    139, 48, 94, 2, 0, 0, 0, 88, 0, 0, 0, 220, 248, 241, 115, 2, 0, 0, 0, 1, 168, 193, 194, 145,
    139, 48, 94, 1, 0, 0, 0, 28, 0, 0, 0, 8, 9, 194, 158, 196, 253, 51, 173, 145, 139, 48, 94, 24,
    168, 142, 166, 7, 238, 88, 22, 252, 130, 106, 2, 36, 139, 40, 253, 1, 204, 193, 194, 145, 139,
    48, 94, 2, 0, 0, 0, 20, 0, 0, 0, 197, 115, 119, 52, 196, 253, 51, 173, 145, 139, 48, 94, 100,
    8, 48, 0, 0, 0, 0, 0, 252, 230, 103, 4, 163, 205, 142, 233, 208, 174, 111, 171, 103, 44, 96,
    192, 74, 63, 31, 212, 73, 14, 81, 246,
];

#[test]
fn real_server_message_decrypts() {
    let key = AuthKey::from_bytes(SERVER_KEY);
    let plain = decrypt_message(&key, Side::Server, &SERVER_FRAME).unwrap();
    // message_data_length 88: a msg_container (dcf8f173) holding new_session_created and pong.
    assert_eq!(plain.len(), 32 + 88);
    assert_eq!(plain[..], SERVER_PLAINTEXT[..32 + 88]);
}

#[test]
fn any_flipped_bit_fails_the_msg_key_check() {
    let key = AuthKey::from_bytes(SERVER_KEY);
    for i in [8, 23, 24, 100, 167] {
        let mut frame = SERVER_FRAME;
        frame[i] ^= 0x10;
        assert_eq!(
            decrypt_message(&key, Side::Server, &frame),
            Err(EnvelopeError::MsgKeyMismatch),
            "byte {i}"
        );
    }
    // The right key in the wrong direction fails too.
    assert_eq!(
        decrypt_message(&key, Side::Client, &SERVER_FRAME),
        Err(EnvelopeError::MsgKeyMismatch)
    );
}

#[test]
fn length_padding_and_key_id_rules() {
    let key = counting_key();
    assert_eq!(
        decrypt_message(&key, Side::Client, &[0; 24 + 40]),
        Err(EnvelopeError::BadLength { len: 64 })
    );
    assert_eq!(
        decrypt_message(&key, Side::Client, &[0; 24 + 50]),
        Err(EnvelopeError::BadLength { len: 74 })
    );
    assert_eq!(
        decrypt_message(&key, Side::Client, &[0; 24 + 48]),
        Err(EnvelopeError::WrongKey)
    );

    let encrypt = |plain: &[u8]| {
        let mut out = Vec::new();
        encrypt_message(&key, Side::Client, plain, &[7; 32], &mut out);
        out
    };
    let header = |len: u32| {
        let mut h = vec![1u8; 28];
        h.extend(len.to_le_bytes());
        h
    };
    // A well-formed message round-trips without its padding.
    let mut plain = header(8);
    plain.extend([5u8; 8]);
    assert_eq!(
        decrypt_message(&key, Side::Client, &encrypt(&plain)).unwrap(),
        plain
    );
    // Length pointing past the end, or not a multiple of 4.
    let mut bad = header(400);
    bad.extend([5u8; 8]);
    assert_eq!(
        decrypt_message(&key, Side::Client, &encrypt(&bad)),
        Err(EnvelopeError::BadDataLength { length: 400 })
    );
    let mut bad = header(6);
    bad.extend([5u8; 8]);
    assert_eq!(
        decrypt_message(&key, Side::Client, &encrypt(&bad)),
        Err(EnvelopeError::BadDataLength { length: 6 })
    );
    // More than 1024 bytes after the data the header declares.
    let mut long_pad = header(0);
    long_pad.extend([5u8; 1040]);
    let frame = encrypt(&long_pad);
    let Err(EnvelopeError::BadPadding { padding }) = decrypt_message(&key, Side::Client, &frame)
    else {
        panic!("padding over 1024 accepted");
    };
    assert!(padding > 1024);
    // Fewer than 12 bytes of padding (a frame our encoder never makes: built by hand).
    let mut padded = header(12);
    padded.extend([5u8; 12]);
    padded.extend([0u8; 4]); // 32 + 12 + 4 = 48, a multiple of 16
    let mk = msg_key(&key, Side::Client, &padded);
    let (aes_key, iv) = message_key_iv(&key, &mk, Side::Client);
    assert!(ige_encrypt(&mut padded, &aes_key, &iv));
    let mut frame = key.id_bytes().to_vec();
    frame.extend(mk);
    frame.extend(padded);
    assert_eq!(
        decrypt_message(&key, Side::Client, &frame),
        Err(EnvelopeError::BadPadding { padding: 4 })
    );
}
