//! The journal record of a batch being applied (see `sled_store`'s comment): version (1) ‖ per
//! write: 1 (put) or 0 (delete) ‖ key length (4, BE) ‖ key ‖ for a put: value length (4, BE) ‖
//! value. Big-endian and versioned like every stored value (DB-4).

use crate::store::StoreError;

const VERSION: u8 = 1;
const DELETE: u8 = 0;
const PUT: u8 = 1;

/// One write of a batch: a key and the value to put there, or `None` to delete it.
pub type Write<'a> = (&'a [u8], Option<&'a [u8]>);

pub fn encode(ops: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<u8> {
    let len = ops
        .iter()
        .map(|(k, v)| 5 + k.len() + v.as_ref().map_or(0, |v| 4 + v.len()))
        .sum::<usize>();
    let mut out = Vec::with_capacity(1 + len);
    out.push(VERSION);
    for (k, v) in ops {
        out.push(if v.is_some() { PUT } else { DELETE });
        push_bytes(&mut out, k);
        if let Some(v) = v {
            push_bytes(&mut out, v);
        }
    }
    out
}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Keys and values are the server's own records, far below 4 GiB.
    let len = u32::try_from(bytes.len()).expect("a record under 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The writes of a journal record, borrowed from it. A record that does not parse is an error
/// (the store will not open rather than guess), never a panic.
pub fn decode(record: &[u8]) -> Result<Vec<Write<'_>>, StoreError> {
    let bad = |what: &str| StoreError(format!("commit journal record: {what}"));
    let Some((&VERSION, mut rest)) = record.split_first() else {
        return Err(bad("unknown version"));
    };
    let mut ops = Vec::new();
    while let Some((&tag, after)) = rest.split_first() {
        let (key, after) = take_bytes(after).ok_or_else(|| bad("truncated key"))?;
        rest = after;
        let value = match tag {
            DELETE => None,
            PUT => {
                let (value, after) = take_bytes(rest).ok_or_else(|| bad("truncated value"))?;
                rest = after;
                Some(value)
            }
            _ => return Err(bad("unknown write kind")),
        };
        ops.push((key, value));
    }
    Ok(ops)
}

fn take_bytes(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = input.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
    (rest.len() >= len).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_round_trips() {
        let ops = vec![
            (b"Ua".to_vec(), Some(vec![1, 2, 3])),
            (b"P".to_vec(), None),
            (Vec::new(), Some(Vec::new())),
        ];
        let record = encode(&ops);
        let back = decode(&record).unwrap();
        let want: Vec<Write<'_>> = ops.iter().map(|(k, v)| (&k[..], v.as_deref())).collect();
        assert_eq!(back, want);
        assert_eq!(decode(&[VERSION]).unwrap(), Vec::<Write<'_>>::new());
    }

    #[test]
    fn damaged_records_are_errors() {
        let record = encode(&[(b"key".to_vec(), Some(b"value".to_vec()))]);
        for cut in 0..record.len() {
            if cut == 1 {
                continue; // the version alone is an empty batch
            }
            assert!(decode(&record[..cut]).is_err(), "cut at {cut}");
        }
        let mut unknown = record.clone();
        unknown[1] = 7;
        assert!(decode(&unknown).is_err());
        let mut version = record;
        version[0] = 2;
        assert!(decode(&version).is_err());
    }
}
