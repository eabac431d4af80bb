//! Issue 14 over TCP. Item 1: key exchanges that stall cannot lock a legitimate client out.
//! From 127.0.0.2 (a limited address: `limit_loopback`), 300 connections send req_pq_multi and
//! stall, some of them keeping the connection busy with msgs_ack, and 20 more get past
//! req_DH_params and stall there; meanwhile a client from 127.0.0.1 makes a key. The stalled
//! exchanges are dropped at their deadline and every slot is free again.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::TestServer;
use mtproto_auth::client::{
    create_auth_key, plain_call, ClientError, ClientMsgIds, ConnectOptions, Transport,
};
use mtproto_auth::handshake::client::{self as hs, ClientConfig, InnerData, RsaScheme};
use mtproto_auth::rand::OsRng;
use mtproto_auth::server::HandshakeRate;
use mtproto_auth::tl::enums;
use mtproto_auth::transport::Framing;

const ATTACKER: &str = "127.0.0.2";
const STALLED_AT_REQ_PQ: usize = 300;
const STALLED_AT_DH: usize = 20;

fn cfg(server: &TestServer) -> ClientConfig {
    ClientConfig {
        scheme: RsaScheme::RsaPad,
        inner: InnerData::Plain,
        keys: vec![server.public_key()],
    }
}

/// req_pq_multi, its answer, then nothing: the exchange waits for req_DH_params.
async fn stall_after_req_pq(opts: &ConnectOptions, from: IpAddr) -> Result<Transport, ClientError> {
    let mut t = Transport::connect_from(opts, from).await?;
    let mut ids = ClientMsgIds::default();
    let (_, req) = hs::start(&mut OsRng);
    let _: enums::ResPQ = plain_call(&mut t, &mut ids, &req).await?;
    Ok(t)
}

/// …and past req_DH_params (the server did its RSA and g^a work): it waits for
/// set_client_DH_params, holding a key-exchange slot.
async fn stall_after_dh(
    opts: &ConnectOptions,
    cfg: &ClientConfig,
    from: IpAddr,
) -> Result<Transport, ClientError> {
    let mut t = Transport::connect_from(opts, from).await?;
    let mut ids = ClientMsgIds::default();
    let (s1, req) = hs::start(&mut OsRng);
    let res: enums::ResPQ = plain_call(&mut t, &mut ids, &req).await?;
    let (_, req) = s1
        .handle_res_pq(res, cfg, &mut OsRng)
        .map_err(ClientError::Handshake)?;
    let _: enums::ServerDHParams = plain_call(&mut t, &mut ids, &req).await?;
    Ok(t)
}

/// Whether the server closes `t` within `wait`.
async fn closed_within(t: &mut Transport, wait: Duration) -> bool {
    matches!(tokio::time::timeout(wait, t.recv()).await, Ok(Err(_)))
}

#[test]
fn stalled_key_exchanges_lock_nobody_out_and_die_at_their_deadline() {
    let server = TestServer::start_with(1, |c| {
        c.limits.limit_loopback = true;
        c.limits.handshake_deadline = Duration::from_secs(3);
        // Room for 320 connections from one address (256 by default: another defence).
        c.limits.max_connections_per_address = 1000;
        // Room for the attack to reach the slots; the budget's own test is elsewhere.
        c.limits.handshake_rate = Some(HandshakeRate {
            per_second: 100.0,
            burst: 1000.0,
        });
    });
    let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
    let cfg = cfg(&server);
    let attacker: IpAddr = ATTACKER.parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut at_req_pq = Vec::new();
        for _ in 0..STALLED_AT_REQ_PQ {
            at_req_pq.push(stall_after_req_pq(&opts, attacker).await.unwrap());
        }
        // Past req_DH_params one address holds at most its 16 slots; the rest are refused.
        let mut at_dh = Vec::new();
        let mut refused = 0;
        for _ in 0..STALLED_AT_DH {
            match stall_after_dh(&opts, &cfg, attacker).await {
                Ok(t) => at_dh.push(t),
                Err(ClientError::Transport(-429)) => refused += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(
            at_dh.len(),
            mtproto_auth::server::slots::DEFAULT_PER_ADDRESS
        );
        assert_eq!(refused, STALLED_AT_DH - at_dh.len());
        assert_eq!(
            server.state.handshake_slots.fill().0,
            at_dh.len(),
            "only exchanges past req_DH_params hold slots"
        );
        // Acks on some stalled connections do not keep their exchanges alive.
        let ack = mtproto_auth::tl::Serializable::to_bytes(&mtproto_auth::tl::types::MsgsAck {
            msg_ids: vec![],
        });
        for t in at_req_pq.iter_mut().take(10) {
            let mut frame = Vec::new();
            mtproto_auth::handshake::plain::write(
                ((std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64)
                    << 32)
                    | 4,
                &ack,
                &mut frame,
            );
            t.send(&frame).await.unwrap();
        }
        // The legitimate client, from another address, makes its key now.
        let mut t = Transport::connect(&opts).await.unwrap();
        create_auth_key(&mut t, &cfg)
            .await
            .expect("a key while 320 exchanges stall");
        // At the deadline every stalled exchange goes, with its connection and its slot.
        for t in at_req_pq.iter_mut().chain(at_dh.iter_mut()) {
            assert!(
                closed_within(t, Duration::from_secs(10)).await,
                "closed at the deadline"
            );
        }
        assert_eq!(server.state.handshake_slots.fill().0, 0);
        let mut again = Transport::connect_from(&opts, attacker).await.unwrap();
        create_auth_key(&mut again, &cfg)
            .await
            .expect("the address makes keys again");
    });
}

#[test]
fn one_address_gets_its_share_of_connections_and_no_more() {
    let server = TestServer::start_with(1, |c| {
        c.limits.limit_loopback = true;
        c.limits.max_connections_per_address = 5;
    });
    let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
    let cfg = cfg(&server);
    let attacker: IpAddr = ATTACKER.parse().unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut held = Vec::new();
            for _ in 0..5 {
                held.push(stall_after_req_pq(&opts, attacker).await.unwrap());
            }
            // The sixth is closed at once; another address is served.
            assert!(stall_after_req_pq(&opts, attacker).await.is_err());
            let mut t = Transport::connect(&opts).await.unwrap();
            create_auth_key(&mut t, &cfg).await.unwrap();
            // A place comes back with its connection.
            drop(held.pop());
            tokio::time::sleep(Duration::from_millis(200)).await;
            stall_after_req_pq(&opts, attacker).await.unwrap();
        });
}

#[test]
fn serve_raises_its_file_limit_to_the_hard_limit() {
    let hard = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap().1;
    let script = format!(
        "ulimit -Sn 256 && exec {} serve --ephemeral --listen 127.0.0.1:0 --dcs 1",
        env!("CARGO_BIN_EXE_mtproto-auth")
    );
    let mut child = std::process::Command::new("sh")
        .args(["-c", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(line.contains("\"ready\":true"), "{line}");
    assert!(log.contains(&format!("file_limit={hard}")), "{log}");
}

#[test]
fn big_frames_need_a_key_and_every_frame_must_be_finished_in_time() {
    let server = TestServer::start_with(1, |c| c.limits.frame_deadline = Duration::from_secs(2));
    let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
    let cfg = cfg(&server);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            // No key yet: a frame declared 1 MiB (allowed with a key) is refused at its header.
            let mut t = Transport::connect(&opts).await.unwrap();
            t.send_raw(&(1u32 << 20).to_le_bytes()).await.unwrap();
            t.send_raw(&[0; 1000]).await.unwrap();
            assert!(
                t.closed_within(Duration::from_millis(1500)).await,
                "refused before the deadline"
            );
            // A small frame begun and never finished is closed at the deadline.
            let mut t = Transport::connect(&opts).await.unwrap();
            t.send_raw(&1000u32.to_le_bytes()).await.unwrap();
            t.send_raw(&[0; 10]).await.unwrap();
            assert!(
                t.closed_within(Duration::from_secs(6)).await,
                "closed at the frame deadline"
            );
            // So is a first byte of an obfuscated init that never gets its 63 others.
            let mut t = tokio::net::TcpStream::connect(server.addr(1))
                .await
                .unwrap();
            tokio::io::AsyncWriteExt::write_all(&mut t, &[0x55; 10])
                .await
                .unwrap();
            let mut buf = [0u8; 16];
            let read = tokio::time::timeout(
                Duration::from_secs(6),
                tokio::io::AsyncReadExt::read(&mut t, &mut buf),
            )
            .await;
            assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
            // With a key the full cap applies: a big frame is taken in, and it too must end.
            let mut transport = Transport::connect(&opts).await.unwrap();
            let done = create_auth_key(&mut transport, &cfg).await.unwrap();
            let mut client =
                mtproto_auth::client::Client::with_key(transport, done.auth_key, done.salt);
            client.ping(7).await.unwrap();
            let t = client.transport();
            t.send_raw(&(256u32 << 10).to_le_bytes()).await.unwrap();
            t.send_raw(&[0; 100_000]).await.unwrap();
            assert!(
                !t.closed_within(Duration::from_millis(500)).await,
                "a keyed connection's big frame is taken"
            );
            assert!(
                t.closed_within(Duration::from_secs(6)).await,
                "and closed at its deadline"
            );
        });
}

async fn resend(c: &mut mtproto_auth::client::Client, id: i64) -> Vec<(i64, i32, Vec<u8>)> {
    use mtproto_auth::tl::{types, Serializable};
    let body = types::MsgResendReq { msg_ids: vec![id] }.to_bytes();
    c.send_body(&body).await.unwrap();
    c.recv_messages().await.unwrap()
}

/// Item 3: keys × sessions × answers that are never acknowledged. Each key's sessions together
/// hold at most its bound and the server at most its own, the oldest answers going first; the
/// newest stay to be re-sent, and a client that acks is not disturbed.
#[test]
fn unacknowledged_answers_stay_within_the_key_and_server_bounds() {
    use mtproto_auth::client::Client;
    use mtproto_auth::tl::{functions, types, Deserializable, Serializable};
    const KEYS: usize = 8;
    const SESSIONS: usize = 8;
    const ANSWERS: usize = 100;
    const PER_KEY: usize = 24 << 10;
    const TOTAL: usize = 96 << 10;
    let server = TestServer::start_with(1, |c| {
        c.limits.max_held_per_key = PER_KEY;
        c.limits.max_held_total = TOTAL;
    });
    let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
    let cfg = cfg(&server);
    let query = functions::help::GetConfig {}.to_bytes();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut sessions = Vec::new();
            let mut answer_bytes = 0;
            for _ in 0..KEYS {
                let mut transport = Transport::connect(&opts).await.unwrap();
                let done = create_auth_key(&mut transport, &cfg).await.unwrap();
                for _ in 0..SESSIONS {
                    let t = Transport::connect(&opts).await.unwrap();
                    let mut c = Client::with_key(t, done.auth_key.clone(), done.salt);
                    for _ in 0..ANSWERS {
                        c.send_body(&query).await.unwrap();
                    }
                    let mut answers = Vec::new();
                    while answers.len() < ANSWERS {
                        for (id, _, body) in c.recv_messages().await.unwrap() {
                            if body.get(..4) == Some(&0xf35c6d01u32.to_le_bytes()[..]) {
                                answer_bytes += body.len();
                                answers.push((id, body));
                            }
                        }
                    }
                    sessions.push((c, answers));
                }
            }
            let held = server.state.held.total();
            assert!(
                answer_bytes > 10 * TOTAL,
                "the attack asks for more: {answer_bytes}"
            );
            assert!(held <= TOTAL, "held {held} of at most {TOTAL}");
            assert!(server.state.metrics.held_dropped_total() > 0);

            // msg_resend_req: the newest answer of the newest session is still held (re-sent
            // under a new id); the oldest session's first answer went (msgs_state_info).
            let (newest, answers) = sessions.last_mut().unwrap();
            let (last_id, last_body) = answers.last().unwrap().clone();
            let again = resend(newest, last_id).await;
            assert!(again
                .iter()
                .any(|(id, _, b)| *b == last_body && *id != last_id));
            let (oldest, answers) = sessions.first_mut().unwrap();
            let first_id = answers[0].0;
            let info = resend(oldest, first_id).await;
            let info = types::MsgsStateInfo::from_bytes(&info[0].2).expect("msgs_state_info");
            assert_eq!(info.info.len(), 1);

            // A client that acknowledges what it gets is served as ever.
            let mut transport = Transport::connect(&opts).await.unwrap();
            let done = create_auth_key(&mut transport, &cfg).await.unwrap();
            let mut c = Client::with_key(transport, done.auth_key, done.salt);
            for i in 0..20 {
                c.invoke_raw(&query).await.unwrap();
                c.flush_acks().await.unwrap();
                c.ping(i).await.unwrap();
            }
            assert!(server.state.held.total() <= TOTAL);
        });
}

/// What the server's frame budget holds now (its `fill` entry).
fn partial_frame_bytes(server: &TestServer) -> (u64, u64) {
    let fill = server.state.fill();
    let (_, held, bound) = fill
        .iter()
        .find(|(name, _, _)| *name == "partial_frame_bytes")
        .expect("the shell reports its frame budget");
    (*held, bound.unwrap())
}

/// Which of `transports` the server closed (each checked for `wait`, all at once).
async fn which_closed(transports: Vec<Transport>, wait: Duration) -> Vec<(Transport, bool)> {
    let mut set = tokio::task::JoinSet::new();
    for (i, mut t) in transports.into_iter().enumerate() {
        set.spawn(async move {
            let closed = t.closed_within(wait).await;
            (i, t, closed)
        });
    }
    let mut out: Vec<(usize, Transport, bool)> = set.join_all().await;
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, t, c)| (t, c)).collect()
}

/// Item 2: connections that each hold most of a frame and never finish it. Over the server's
/// budget the connections holding the most are closed first, the memory held stays within the
/// bound, and a new client still makes a key and is served.
#[test]
fn incomplete_frames_stay_within_the_server_budget_the_largest_closed_first() {
    const BUDGET: usize = 2 << 20;
    let server = TestServer::start_with(1, |c| {
        c.limits.max_partial_frame_bytes = BUDGET;
        c.limits.max_connections_per_address = 1000;
    });
    let opts = ConnectOptions::new(server.addr(1), Framing::Intermediate);
    let cfg = cfg(&server);
    // A frame declared `declared` bytes long, of which `sent` are sent.
    async fn hold(t: &mut Transport, declared: u32, sent: usize) {
        t.send_raw(&declared.to_le_bytes()).await.unwrap();
        t.send_raw(&vec![0x5a; sent]).await.unwrap();
    }
    let settle = || tokio::time::sleep(Duration::from_millis(300));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            // Three keyed connections hold 600 KB each (the 1 MiB cap applies with a key) …
            let mut big = Vec::new();
            for _ in 0..3 {
                let mut transport = Transport::connect(&opts).await.unwrap();
                let done = create_auth_key(&mut transport, &cfg).await.unwrap();
                let mut client =
                    mtproto_auth::client::Client::with_key(transport, done.auth_key, done.salt);
                client.ping(1).await.unwrap();
                hold(client.transport(), 1 << 20, 600_000).await;
                big.push(client);
            }
            // … and a hundred without a key 8 KB each: together past the budget.
            let mut small = Vec::new();
            for _ in 0..100 {
                let mut t = Transport::connect(&opts).await.unwrap();
                hold(&mut t, 60_000, 8_000).await;
                small.push(t);
            }
            settle().await;
            let (held, bound) = partial_frame_bytes(&server);
            assert_eq!(bound, BUDGET as u64);
            assert!(held <= bound, "{held} held");
            let big_closed = {
                let mut n = 0;
                for c in &mut big {
                    n += usize::from(
                        c.transport()
                            .closed_within(Duration::from_millis(200))
                            .await,
                    );
                }
                n
            };
            assert!(big_closed >= 1, "the largest holders go first");
            let small = which_closed(small, Duration::from_millis(200)).await;
            let n = small.iter().filter(|(_, closed)| *closed).count();
            assert_eq!(n, 0, "small holders closed ({big_closed} of 3 large ones)");

            // Two hundred more without a key, 60 KB each (12 MB): the budget holds, the new
            // largest are closed, and the small ones still stay.
            let mut flood = Vec::new();
            for _ in 0..200 {
                let mut t = Transport::connect(&opts).await.unwrap();
                hold(&mut t, 64_000, 60_000).await;
                flood.push(t);
            }
            settle().await;
            let (held, _) = partial_frame_bytes(&server);
            assert!(held <= BUDGET as u64, "{held} held");
            let flood = which_closed(flood, Duration::from_millis(200)).await;
            let closed = flood.iter().filter(|(_, c)| *c).count();
            assert!(closed >= 150, "{closed} of the flood closed");
            let small = which_closed(
                small.into_iter().map(|(t, _)| t).collect(),
                Duration::from_millis(200),
            )
            .await;
            assert!(
                small.iter().all(|(_, closed)| !closed),
                "no small holder was closed"
            );

            // A new client is served meanwhile.
            let started = std::time::Instant::now();
            let mut transport = Transport::connect(&opts).await.unwrap();
            let done = create_auth_key(&mut transport, &cfg).await.unwrap();
            let mut client =
                mtproto_auth::client::Client::with_key(transport, done.auth_key, done.salt);
            client.ping(2).await.unwrap();
            assert!(started.elapsed() < Duration::from_secs(5));
            drop((small, flood));
            settle().await;
            assert!(partial_frame_bytes(&server).0 <= BUDGET as u64);
        });
}
