//! Encode and decode of typical TL values, against grammers-tl-types (crates.io, layer 230) as
//! the peer baseline: `cargo bench --bench tl --features peer-bench`.
//!
//! The values use constructors with the same id and wire form in layer 229 and 230 (user,
//! config, auth.sentCode and everything inside them; of `username`, whose layer-230 definition
//! adds two `true` flags, only flags both layers know). The peer's values are decoded from our
//! encoding, and setup asserts that both libraries encode every value to identical bytes, so
//! both sides do the same work.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use grammers_tl_types as peer;
use mtproto_auth::tl::{enums, types, Deserializable, Serializable};
use std::hint::black_box;

fn sent_code() -> enums::auth::SentCode {
    types::auth::SentCode {
        r#type: types::auth::SentCodeTypeSms { length: 5 }.into(),
        phone_code_hash: "3f1c2a9b8e7d6c5b4a39".into(),
        next_type: Some(types::auth::CodeTypeSms {}.into()),
        timeout: Some(120),
    }
    .into()
}

fn full_user(i: i64) -> enums::User {
    let color = |c| types::PeerColor {
        color: Some(c),
        background_emoji_id: Some(5_000_000 + i),
    };
    types::User {
        is_self: true,
        contact: true,
        mutual_contact: true,
        deleted: true,
        bot: true,
        bot_chat_history: true,
        bot_nochats: true,
        verified: true,
        restricted: true,
        min: true,
        bot_inline_geo: true,
        support: true,
        scam: true,
        apply_min_photo: true,
        fake: true,
        bot_attach_menu: true,
        premium: true,
        attach_menu_enabled: true,
        bot_can_edit: true,
        close_friend: true,
        stories_hidden: true,
        stories_unavailable: true,
        contact_require_premium: true,
        bot_business: true,
        bot_has_main_app: true,
        bot_forum_view: true,
        bot_forum_can_manage_topics: true,
        bot_can_manage_bots: true,
        bot_guestchat: true,
        bot_guard: true,
        id: 1_000_000 + i,
        access_hash: Some(-7_234_567_890_123 * (i + 1)),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace-Byron".into()),
        username: Some(format!("ada_{i}")),
        phone: Some(format!("99966{:05}", i % 100_000)),
        photo: Some(
            types::UserProfilePhoto {
                has_video: true,
                personal: true,
                photo_id: 42 + i,
                stripped_thumb: Some(vec![1; 40]),
                dc_id: 2,
            }
            .into(),
        ),
        status: Some(
            types::UserStatusOnline {
                expires: 1_700_000_000,
            }
            .into(),
        ),
        bot_info_version: Some(3),
        restriction_reason: Some(vec![types::RestrictionReason {
            platform: "all".into(),
            reason: "test".into(),
            text: "Test restriction".into(),
        }
        .into()]),
        bot_inline_placeholder: Some("Search...".into()),
        lang_code: Some("en".into()),
        emoji_status: Some(
            types::EmojiStatus {
                document_id: 77,
                until: Some(1_800_000_000),
            }
            .into(),
        ),
        usernames: Some(vec![types::Username {
            editable: true,
            active: true,
            username: format!("ada_{i}"),
        }
        .into()]),
        stories_max_id: Some(
            types::RecentStory {
                live: true,
                max_id: Some(9),
            }
            .into(),
        ),
        color: Some(color(3).into()),
        profile_color: Some(color(5).into()),
        bot_active_users: Some(1234),
        bot_verification_icon: Some(99),
        send_paid_messages_stars: Some(10),
        linked_community_id: Some(555),
    }
    .into()
}

fn config() -> enums::Config {
    let dc = |id, ip: &str| -> enums::DcOption {
        types::DcOption {
            ipv6: false,
            media_only: false,
            tcpo_only: false,
            cdn: false,
            r#static: true,
            this_port_only: false,
            id,
            ip_address: ip.into(),
            port: 4430 + id,
            secret: None,
        }
        .into()
    };
    types::Config {
        default_p2p_contacts: true,
        preload_featured_stickers: true,
        revoke_pm_inbox: true,
        blocked_mode: true,
        force_try_ipv6: false,
        date: 1_700_000_000,
        expires: 1_700_003_600,
        test_mode: true,
        this_dc: 2,
        dc_options: vec![dc(1, "127.0.0.1"), dc(2, "127.0.0.2"), dc(3, "127.0.0.3")],
        dc_txt_domain_name: "localhost".into(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5_000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1_500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: 2_147_483_647,
        revoke_pm_time_limit: 2_147_483_647,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: Some(2),
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: Some("https://example.invalid/update".into()),
        gif_search_username: Some("gif".into()),
        venue_search_username: Some("foursquare".into()),
        img_search_username: Some("bing".into()),
        static_maps_provider: Some("telegram".into()),
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: 4,
        suggested_lang_code: Some("en".into()),
        lang_pack_version: Some(1),
        base_lang_pack_version: Some(1),
        reactions_default: Some(
            types::ReactionEmoji {
                emoticon: "👍".into(),
            }
            .into(),
        ),
        autologin_token: Some("token".into()),
    }
    .into()
}

/// Runs encode and decode of one value with both libraries.
fn case<O, P>(c: &mut Criterion, name: &str, ours: O)
where
    O: Serializable + Deserializable,
    P: peer::Serializable + peer::Deserializable,
{
    let bytes = ours.to_bytes();
    let theirs = P::from_bytes(&bytes).expect("the peer decodes our encoding");
    assert_eq!(
        peer::Serializable::to_bytes(&theirs),
        bytes,
        "{name}: encodings differ"
    );
    assert!(O::from_bytes(&bytes).is_ok());

    let mut g = c.benchmark_group(format!("encode/{name}"));
    let mut buf = Vec::with_capacity(bytes.len());
    g.bench_function(BenchmarkId::from_parameter("mtproto-auth"), |b| {
        b.iter(|| {
            buf.clear();
            black_box(&ours).serialize(&mut buf);
            black_box(buf.len())
        })
    });
    g.bench_function(BenchmarkId::from_parameter("grammers-tl-types"), |b| {
        b.iter(|| {
            buf.clear();
            peer::Serializable::serialize(black_box(&theirs), &mut buf);
            black_box(buf.len())
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("decode/{name}"));
    g.bench_function(BenchmarkId::from_parameter("mtproto-auth"), |b| {
        b.iter(|| O::from_bytes(black_box(&bytes)).unwrap())
    });
    g.bench_function(BenchmarkId::from_parameter("grammers-tl-types"), |b| {
        b.iter(|| P::from_bytes(black_box(&bytes)).unwrap())
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    case::<_, peer::enums::auth::SentCode>(c, "auth.sentCode", sent_code());
    case::<_, peer::enums::User>(c, "user (all optional fields)", full_user(1));
    case::<_, peer::enums::Config>(c, "config", config());
    case::<_, Vec<peer::enums::User>>(
        c,
        "Vector of 100 users",
        (0..100).map(full_user).collect::<Vec<_>>(),
    );
}

criterion_group! {
    name = tl;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = benches
}
criterion_main!(tl);
