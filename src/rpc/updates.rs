//! updates.getState and updates.getDifference [doc: api/updates]: this server keeps no message
//! history, so the state is the same empty one at every call (pts 1, qts 0, seq 0) and there
//! is never a difference. Clients call both right after login (CLIENTS.md §3).

use super::RpcContext;
use crate::tl::{enums, types};

const PTS: i32 = 1;

pub fn get_state(ctx: &RpcContext<'_>) -> enums::updates::State {
    types::updates::State {
        pts: PTS,
        qts: 0,
        date: ctx.now,
        seq: 0,
        unread_count: 0,
    }
    .into()
}

pub fn get_difference(ctx: &RpcContext<'_>) -> enums::updates::Difference {
    types::updates::DifferenceEmpty {
        date: ctx.now,
        seq: 0,
    }
    .into()
}
