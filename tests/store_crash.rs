//! DB-3/DB-5 for the store itself: a child process commits multi-write batches as fast as it
//! can while another thread syncs every millisecond (so that sled's log is cut in the middle of
//! batches), and is killed with SIGKILL at a random moment. Reopened, the store must hold whole
//! batches only (the journal finishes the one a crash cut), and every batch a sync covered.
//!
//! The child is this test binary run again on the ignored test `child_commits_until_killed`.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtproto_auth::store::{Batch, Commit, SledStore, Store};

const DIR_VAR: &str = "MTPROTO_STORE_CRASH_DIR";
const ROUNDS: usize = 8;
/// Keys every batch writes the same number to.
const WIDE: u8 = 8;

fn value(n: u32) -> Vec<u8> {
    n.to_be_bytes().to_vec()
}

fn marker(n: u32) -> Vec<u8> {
    let mut k = b"M".to_vec();
    k.extend_from_slice(&n.to_be_bytes());
    k
}

/// The last batch number in the store, after checking that it holds whole batches only.
fn check(store: &SledStore) -> u32 {
    let wide = store.scan(b"W", 100).unwrap();
    if wide.is_empty() {
        assert!(store.scan(b"M", 10).unwrap().is_empty());
        return 0;
    }
    assert_eq!(
        wide.len(),
        usize::from(WIDE),
        "a batch lost writes: {wide:?}"
    );
    let n = u32::from_be_bytes(wide[0].1.as_slice().try_into().unwrap());
    assert!(
        wide.iter().all(|(_, v)| *v == value(n)),
        "half a batch: {wide:?}"
    );
    // Each batch deletes the previous batch's marker and puts its own.
    assert_eq!(store.scan(b"M", 10).unwrap(), vec![(marker(n), value(n))]);
    n
}

#[test]
#[ignore = "the child of batches_stay_whole_across_sigkill"]
fn child_commits_until_killed() {
    let dir = std::env::var(DIR_VAR).expect("run by batches_stay_whole_across_sigkill");
    let store = Arc::new(SledStore::open(dir.as_ref()).unwrap());
    let mut n = check(&store);
    let committed = Arc::new(AtomicU32::new(n));
    {
        let store = store.clone();
        let committed = committed.clone();
        std::thread::spawn(move || loop {
            let before = committed.load(Ordering::SeqCst);
            store.sync().unwrap();
            println!("durable {before}");
            std::thread::sleep(Duration::from_millis(1));
        });
    }
    loop {
        n += 1;
        let mut b = Batch::default();
        for k in 0..WIDE {
            b.put(vec![b'W', k], value(n));
        }
        b.delete(marker(n - 1)).put(marker(n), value(n));
        b.expect(marker(n - 1), (n > 1).then(|| value(n - 1)));
        assert!(matches!(store.commit(&b).unwrap(), Commit::Applied { .. }));
        committed.store(n, Ordering::SeqCst);
    }
}

#[test]
fn batches_stay_whole_across_sigkill() {
    let dir = std::env::temp_dir().join(format!("mtproto-store-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut seed = u64::from(std::process::id());
    let (mut finished, mut replays) = (0, 0);
    let mut last = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "child_commits_until_killed",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(DIR_VAR, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let durable = Arc::new(Mutex::new(None::<u32>));
        let reader = {
            let durable = durable.clone();
            let out = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if let Some(n) = line.strip_prefix("durable ") {
                        *durable.lock().unwrap() = Some(n.parse().unwrap());
                    }
                }
            })
        };
        // Until the child has synced at least once, then a random while longer.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while durable.lock().unwrap().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "the child never synced"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(50 + (seed >> 33) % 250));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        let durable = durable.lock().unwrap().unwrap();

        // Whether the crash cut a batch: its journal record is there before the store opens.
        {
            let db = sled::Config::new()
                .path(&dir)
                .flush_every_ms(None)
                .open()
                .unwrap();
            let journal = db.open_tree("commit_journal").unwrap();
            if journal.get(b"batch").unwrap().is_some() {
                replays += 1;
            }
        }
        let store = SledStore::open(&dir).unwrap();
        let n = check(&store);
        assert!(
            n >= durable,
            "round {round}: batch {durable} was synced, {n} is left"
        );
        assert!(n >= last, "round {round}: went back from {last} to {n}");
        finished += n - last;
        last = n;
    }
    eprintln!("{finished} batches over {ROUNDS} kills; {replays} crashes cut a batch");
    assert!(finished > 0);
    let _ = std::fs::remove_dir_all(&dir);
}
