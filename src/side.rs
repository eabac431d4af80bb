//! Which end of a connection the code acts for. The MTProto rules that differ by direction
//! (KDF offset x, msg_id parity, what a transport frame may carry) all take this one enum.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
}
