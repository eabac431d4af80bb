//! users.getUsers and users.getFullUser for the caller itself [doc: method/users.getUsers,
//! method/users.getFullUser], and the `user` object every login result carries. Other users
//! are not visible through this server: they are left out of getUsers (as Telegram leaves out
//! users it cannot show) and getFullUser answers USER_ID_INVALID for them.

use super::RpcError;
use crate::store::records::User;
use crate::tl::{enums, types};

/// The `user` object of a stored user; `is_self` for the caller's own (its phone is shown).
pub fn user_object(u: &User, is_self: bool) -> enums::User {
    types::User {
        is_self,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: u.bot,
        bot_chat_history: false,
        bot_nochats: false,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
        fake: false,
        bot_attach_menu: false,
        premium: false,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: false,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id: u.id,
        access_hash: Some(u.access_hash),
        first_name: Some(u.first_name.clone()),
        last_name: (!u.last_name.is_empty()).then(|| u.last_name.clone()),
        username: (!u.username.is_empty()).then(|| u.username.clone()),
        phone: (is_self && !u.phone.is_empty()).then(|| u.phone.clone()),
        photo: None,
        status: Some(types::UserStatusEmpty {}.into()),
        // Bots carry the version of their (empty) bot info; clients expect it of a bot.
        bot_info_version: u.bot.then_some(1),
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: None,
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    }
    .into()
}

fn names_self(input: &enums::InputUser, me: &User) -> bool {
    match input {
        enums::InputUser::InputUserSelf(_) => true,
        enums::InputUser::InputUser(u) => u.user_id == me.id && u.access_hash == me.access_hash,
        _ => false,
    }
}

/// users.getUsers: the caller's own user, once, if any entry names it. Once, not per entry:
/// a request of 4-byte inputUserSelf entries must not make an answer hundreds of times its
/// size.
pub fn get_users(me: &User, ids: &[enums::InputUser]) -> Vec<enums::User> {
    if ids.iter().any(|i| names_self(i, me)) {
        vec![user_object(me, true)]
    } else {
        Vec::new()
    }
}

/// users.getFullUser for the caller: an empty profile.
pub fn get_full_user(me: &User, id: &enums::InputUser) -> Result<types::users::UserFull, RpcError> {
    if !names_self(id, me) {
        return Err(RpcError::new(400, "USER_ID_INVALID"));
    }
    let full = types::UserFull {
        blocked: false,
        phone_calls_available: false,
        phone_calls_private: false,
        can_pin_message: false,
        has_scheduled: false,
        video_calls_available: false,
        voice_messages_forbidden: false,
        translations_disabled: false,
        stories_pinned_available: false,
        blocked_my_stories_from: false,
        wallpaper_overridden: false,
        contact_require_premium: false,
        read_dates_private: false,
        sponsored_enabled: false,
        can_view_revenue: false,
        bot_can_manage_emoji_status: false,
        display_gifts_button: false,
        noforwards_my_enabled: false,
        noforwards_peer_enabled: false,
        unofficial_security_risk: false,
        id: me.id,
        about: None,
        settings: peer_settings(),
        personal_photo: None,
        profile_photo: None,
        fallback_photo: None,
        notify_settings: types::PeerNotifySettings {
            show_previews: None,
            silent: None,
            mute_until: None,
            ios_sound: None,
            android_sound: None,
            other_sound: None,
            stories_muted: None,
            stories_hide_sender: None,
            stories_ios_sound: None,
            stories_android_sound: None,
            stories_other_sound: None,
        }
        .into(),
        bot_info: None,
        pinned_msg_id: None,
        common_chats_count: 0,
        folder_id: None,
        ttl_period: None,
        theme: None,
        private_forward_name: None,
        bot_group_admin_rights: None,
        bot_broadcast_admin_rights: None,
        wallpaper: None,
        stories: None,
        business_work_hours: None,
        business_location: None,
        business_greeting_message: None,
        business_away_message: None,
        business_intro: None,
        birthday: None,
        personal_channel_id: None,
        personal_channel_message: None,
        stargifts_count: None,
        starref_program: None,
        bot_verification: None,
        send_paid_messages_stars: None,
        disallowed_gifts: None,
        stars_rating: None,
        stars_my_pending_rating: None,
        stars_my_pending_rating_date: None,
        main_tab: None,
        saved_music: None,
        note: None,
        bot_manager_id: None,
    };
    Ok(types::users::UserFull {
        full_user: full.into(),
        chats: Vec::new(),
        users: vec![user_object(me, true)],
    })
}

fn peer_settings() -> enums::PeerSettings {
    types::PeerSettings {
        report_spam: false,
        add_contact: false,
        block_contact: false,
        share_contact: false,
        need_contacts_exception: false,
        report_geo: false,
        autoarchived: false,
        invite_members: false,
        request_chat_broadcast: false,
        business_bot_paused: false,
        business_bot_can_reply: false,
        geo_distance: None,
        request_chat_title: None,
        request_chat_date: None,
        business_bot_id: None,
        business_bot_manage_url: None,
        charge_paid_message_stars: None,
        registration_month: None,
        phone_country: None,
        name_change_date: None,
        photo_change_date: None,
    }
    .into()
}
