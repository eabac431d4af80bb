//! `msg_container#73f1f8dc messages:vector<message>` (SV-1) [doc: mtproto/service_messages]:
//!
//! ```text
//! container = 73f1f8dc (4) ‖ count (4) ‖ message × count
//! message   = msg_id (8) ‖ seqno (4) ‖ bytes (4) ‖ body (bytes)
//! ```
//! At most 1024 messages (else transport error −429); empty is allowed; no container inside a
//! container; `bytes` a multiple of 4 and inside the container; each inner msg_id below the
//! container's and each inner seqno at most the container's (else bad_msg 64). All or nothing:
//! any violation refuses the whole container before any inner message is processed.

use crate::tl::Reader;

/// `msg_container#73f1f8dc`.
pub const CONTAINER_ID: u32 = 0x73f1f8dc;
/// Most messages one container may hold (SV-1).
pub const MAX_CONTAINER_MESSAGES: u32 = 1024;

/// One message of a container; `body` borrows from the container's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inner<'a> {
    pub msg_id: i64,
    pub seqno: i32,
    pub body: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerError {
    /// More than 1024 messages: transport error −429 (TR-10).
    TooMany { count: u32 },
    /// Anything else malformed: bad_msg_notification 64 (SS-5).
    Invalid,
}

impl ContainerError {
    /// The code to answer with: a transport error (−429) or a bad_msg code (64).
    pub fn code(self) -> i32 {
        match self {
            ContainerError::TooMany { .. } => -429,
            ContainerError::Invalid => 64,
        }
    }
}

/// Splits a container (its constructor id included) sent with `msg_id` and `seqno`.
pub fn parse(data: &[u8], msg_id: i64, seqno: i32) -> Result<Vec<Inner<'_>>, ContainerError> {
    let invalid = |_| ContainerError::Invalid;
    let mut r = Reader::new(data);
    r.expect_constructor(CONTAINER_ID).map_err(invalid)?;
    let count = r.read_u32().map_err(invalid)?;
    if count > MAX_CONTAINER_MESSAGES {
        return Err(ContainerError::TooMany { count });
    }
    let mut out = Vec::with_capacity(count.min(r.remaining() as u32 / 16) as usize);
    for _ in 0..count {
        let inner_id = r.read_i64().map_err(invalid)?;
        let inner_seqno = r.read_i32().map_err(invalid)?;
        let len = r.read_u32().map_err(invalid)? as usize;
        if !len.is_multiple_of(4) || len < 4 {
            return Err(ContainerError::Invalid);
        }
        let body = r.read_slice(len).map_err(invalid)?;
        let nested = body
            .get(..4)
            .is_some_and(|id| id == CONTAINER_ID.to_le_bytes());
        if nested || inner_id >= msg_id || inner_seqno > seqno {
            return Err(ContainerError::Invalid);
        }
        out.push(Inner {
            msg_id: inner_id,
            seqno: inner_seqno,
            body,
        });
    }
    r.finish().map_err(invalid)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(messages: &[(i64, i32, &[u8])]) -> Vec<u8> {
        let mut c = CONTAINER_ID.to_le_bytes().to_vec();
        c.extend((messages.len() as u32).to_le_bytes());
        for (id, seqno, body) in messages {
            c.extend(id.to_le_bytes());
            c.extend(seqno.to_le_bytes());
            c.extend((body.len() as u32).to_le_bytes());
            c.extend(*body);
        }
        c
    }

    const PING: &[u8] = &[0xec, 0x77, 0xbe, 0x7a, 1, 0, 0, 0, 0, 0, 0, 0];

    #[test]
    fn splits_messages_borrowing_their_bodies() {
        let c = container(&[(100, 1, PING), (104, 3, &[1, 2, 3, 4])]);
        let got = parse(&c, 108, 4).unwrap();
        assert_eq!(
            got,
            [
                Inner {
                    msg_id: 100,
                    seqno: 1,
                    body: PING
                },
                Inner {
                    msg_id: 104,
                    seqno: 3,
                    body: &[1, 2, 3, 4]
                }
            ]
        );
        assert_eq!(parse(&container(&[]), 108, 0).unwrap(), []);
    }

    #[test]
    fn over_1024_messages_is_429_before_reading_them() {
        let mut c = CONTAINER_ID.to_le_bytes().to_vec();
        c.extend(1025u32.to_le_bytes());
        assert_eq!(
            parse(&c, 108, 0),
            Err(ContainerError::TooMany { count: 1025 })
        );
        assert_eq!(ContainerError::TooMany { count: 1025 }.code(), -429);
    }

    #[test]
    fn every_malformation_is_64_and_refuses_the_whole_container() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (container(&[(100, 1, PING)]), "fine"),
            (
                container(&[(108, 1, PING)]),
                "inner msg_id not below the container's",
            ),
            (
                container(&[(100, 5, PING)]),
                "inner seqno above the container's",
            ),
            (
                container(&[(100, 1, &[1, 2, 3])]),
                "body not a multiple of 4",
            ),
            (container(&[(100, 1, &[])]), "empty body"),
            (container(&[(100, 1, &container(&[]))]), "nested container"),
        ];
        for (c, what) in cases {
            let result = parse(&c, 108, 4);
            if what == "fine" {
                assert!(result.is_ok());
            } else {
                assert_eq!(result, Err(ContainerError::Invalid), "{what}");
            }
        }
        let mut truncated = container(&[(100, 1, PING)]);
        truncated.pop();
        assert_eq!(parse(&truncated, 108, 4), Err(ContainerError::Invalid));
        let mut trailing = container(&[(100, 1, PING)]);
        trailing.extend([0; 4]);
        assert_eq!(parse(&trailing, 108, 4), Err(ContainerError::Invalid));
        let mut overlong = container(&[(100, 1, PING)]);
        overlong[21] = 1; // bytes field: 12 + 256, aligned but past the end
        assert_eq!(parse(&overlong, 108, 4), Err(ContainerError::Invalid));
        assert_eq!(ContainerError::Invalid.code(), 64);
    }
}
