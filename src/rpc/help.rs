//! help.getConfig and help.getNearestDc [doc: method/help.getConfig]: the DC table clients
//! migrate through (CLIENTS.md §4), with the addresses actually served.

use super::RpcContext;
use crate::tl::{types, Serializable};

/// How long clients may cache the config, in seconds.
const CONFIG_EXPIRES_IN: i32 = 3600;

pub fn get_config(ctx: &RpcContext<'_>) -> Vec<u8> {
    let dc_options = ctx
        .dcs
        .iter()
        .map(|dc| {
            types::DcOption {
                ipv6: false,
                media_only: false,
                tcpo_only: false,
                cdn: false,
                // grammers only reads static options (CLIENTS.md §3).
                r#static: true,
                this_port_only: false,
                id: dc.id,
                ip_address: dc.ip.clone(),
                port: i32::from(dc.port),
                secret: None,
            }
            .into()
        })
        .collect();
    // Limits are Telegram's current published defaults; clients only display or clamp by them.
    types::Config {
        default_p2p_contacts: false,
        preload_featured_stickers: false,
        revoke_pm_inbox: true,
        blocked_mode: false,
        force_try_ipv6: false,
        date: ctx.now,
        expires: ctx.now + CONFIG_EXPIRES_IN,
        test_mode: ctx.test_mode,
        this_dc: ctx.this_dc,
        dc_options,
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
        revoke_time_limit: i32::MAX,
        revoke_pm_time_limit: i32::MAX,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: None,
        gif_search_username: None,
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: 4,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    }
    .to_bytes()
}

pub fn get_nearest_dc(ctx: &RpcContext<'_>) -> Vec<u8> {
    types::NearestDc {
        country: "US".into(),
        this_dc: ctx.this_dc,
        nearest_dc: ctx.this_dc,
    }
    .to_bytes()
}
