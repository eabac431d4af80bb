//! The unencrypted envelope of handshake messages (UM-1 … UM-4) [doc: mtproto/description]:
//!
//! ```text
//! auth_key_id = 0 (8) ‖ msg_id (8) ‖ message_data_length (4) ‖ message_data
//! ```

use super::HandshakeError;
use crate::Side;

/// Splits an unencrypted frame `sender` sent into (msg_id, message_data). The length must account
/// for every byte (UM-1). Any client msg_id is accepted (UM-3): grammers sends 0 on purpose and
/// TDLib 0 or 1, and Telegram answers them; the clock is not synced yet, so there is no window
/// either. A server msg_id is ≡ 1 mod 4 (UM-4).
pub fn parse(frame: &[u8], sender: Side) -> Result<(i64, &[u8]), HandshakeError> {
    if frame.len() < 20 {
        return Err(HandshakeError::BadEnvelope(
            "shorter than its 20-byte header",
        ));
    }
    if frame[..8] != [0; 8] {
        return Err(HandshakeError::BadEnvelope("auth_key_id is not 0"));
    }
    let msg_id = i64::from_le_bytes(frame[8..16].try_into().expect("8 bytes"));
    let len = u32::from_le_bytes(frame[16..20].try_into().expect("4 bytes")) as usize;
    if len != frame.len() - 20 {
        return Err(HandshakeError::BadEnvelope(
            "message_data_length is not the rest of the frame",
        ));
    }
    match sender {
        Side::Server if msg_id & 3 != 1 => Err(HandshakeError::BadEnvelope(
            "server msg_id is not ≡ 1 mod 4",
        )),
        _ => Ok((msg_id, &frame[20..])),
    }
}

/// Appends an unencrypted message to `out`.
pub fn write(msg_id: i64, data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&msg_id.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let mut f = Vec::new();
        write(8, &[1, 2, 3, 4], &mut f);
        assert_eq!(parse(&f, Side::Client).unwrap(), (8, &[1, 2, 3, 4][..]));
        let mut long = f.clone();
        long.push(0);
        assert!(parse(&long, Side::Client).is_err());
        // UM-3: 0 (grammers, TDLib), 1 (TDLib's ping connection), any other value.
        for id in [0, 1, 9, -4] {
            let mut any = Vec::new();
            write(id, &[1, 2, 3, 4], &mut any);
            assert_eq!(parse(&any, Side::Client).unwrap().0, id);
        }
        let mut server = Vec::new();
        write(9, &[1, 2, 3, 4], &mut server);
        assert!(parse(&server, Side::Server).is_ok());
        assert!(parse(&f, Side::Server).is_err());
        let mut keyed = f.clone();
        keyed[0] = 1;
        assert!(parse(&keyed, Side::Client).is_err());
        assert!(parse(&f[..19], Side::Client).is_err());
    }
}
