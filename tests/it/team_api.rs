//! `/api/v1` team management from outside, on SQLite: invitations, password resets, sign-up,
//! roles, removing agents, sites and their keys, and the audit log.

use concierge_protocol::close;
use concierge_tests::api::{session_cookie, Auth};
use concierge_tests::{spawn_app, spawn_with, Agent, Options};
use serde_json::json;

#[tokio::test]
async fn an_invitation_link_works_once_and_signs_the_new_agent_in() {
    let app = spawn_app().await;
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let invite = api
        .post(
            "/invitations",
            json!({"email": "New.Person@Shop.example", "role": "agent"}),
        )
        .await;
    assert_eq!(invite.status, 201, "{:?}", invite.body);
    let token = invite.body["token"].as_str().unwrap().to_string();
    assert!(invite.body["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/app/invite/{token}")));
    assert_eq!(invite.body["email"], "new.person@shop.example");
    let pending = api.get("/invitations").await;
    assert_eq!(pending.body["items"][0]["email"], "new.person@shop.example");
    let weak = app
        .anonymous()
        .post(
            &format!("/invitations/{token}/accept"),
            json!({"name": "Nia", "password": "short"}),
        )
        .await;
    assert_eq!(weak.status, 400, "a weak password does not use up the link");
    let accepted = app
        .anonymous()
        .post(
            &format!("/invitations/{token}/accept"),
            json!({"name": "Nia", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.body);
    assert_eq!(accepted.body["agent"]["name"], "Nia");
    assert_eq!(accepted.body["agent"]["role"], "agent");
    assert!(session_cookie(&accepted).is_some(), "signed in");
    let again = app
        .anonymous()
        .post(
            &format!("/invitations/{token}/accept"),
            json!({"name": "Eve", "password": "a long enough password"}),
        )
        .await;
    assert_eq!((again.status, again.code()), (404, "not_found"));
    app.sign_in("new.person@shop.example", "a long enough password")
        .await;
    let twice = api
        .post(
            "/invitations",
            json!({"email": "new.person@shop.example", "role": "agent"}),
        )
        .await;
    assert_eq!((twice.status, twice.code()), (409, "conflict"));
}

#[tokio::test]
async fn only_owners_invite_owners_and_agents_invite_nobody() {
    let app = spawn_app().await;
    let admin = app.member("admin").await;
    let r = app
        .bearer(&admin.token)
        .post(
            "/invitations",
            json!({"email": "boss@shop.example", "role": "owner"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    assert_eq!(
        app.bearer(&admin.token)
            .post(
                "/invitations",
                json!({"email": "a@shop.example", "role": "admin"})
            )
            .await
            .status,
        201
    );
    let r = app
        .bearer(&app.agent_token)
        .post(
            "/invitations",
            json!({"email": "b@shop.example", "role": "agent"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .bearer(&admin.token)
        .post(
            "/invitations",
            json!({"email": "c@shop.example", "role": "emperor"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "bad_frame"));
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_and_ends_every_session() {
    let app = spawn_app().await;
    let old_session = app.sign_in(&app.agent_email, &app.agent_password).await;
    // Self-service: the same 202 whether or not the email exists.
    for email in [app.agent_email.as_str(), "ghost@shop.example"] {
        assert_eq!(
            app.anonymous()
                .post("/password-resets", json!({"email": email}))
                .await
                .status,
            202
        );
    }
    let admin = app.member("admin").await;
    let agents = app.bearer(&admin.token).get("/agents").await;
    let id = agents.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == app.agent_email.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let link = app
        .bearer(&admin.token)
        .post(&format!("/agents/{id}/password-reset"), json!({}))
        .await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    let token = link.body["token"].as_str().unwrap();
    let done = app
        .anonymous()
        .post(
            &format!("/password-resets/{token}/accept"),
            json!({"password": "brand new password"}),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(
        old_session.get("/me").await.status,
        401,
        "sessions end on reset"
    );
    app.sign_in(&app.agent_email, "brand new password").await;
    let reused = app
        .anonymous()
        .post(
            &format!("/password-resets/{token}/accept"),
            json!({"password": "another new password"}),
        )
        .await;
    assert_eq!(reused.status, 404);
}

#[tokio::test]
async fn sign_up_is_closed_by_default_and_open_sign_up_makes_a_free_account() {
    let body = json!({"email": "founder@new.example", "password": "founder password",
        "account_name": "New Co", "site_name": "New site", "origin": "https://new.example"});
    let closed = spawn_app().await;
    let r = closed.anonymous().post("/signup", body.clone()).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let opts = Options {
        signup_open: true,
        ..Options::default()
    };
    let app = spawn_with(opts).await.unwrap();
    let r = app.anonymous().post("/signup", body.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["agent"]["role"], "owner");
    assert_eq!(r.body["site"]["allowed_origins"][0], "https://new.example");
    let cookie = session_cookie(&r).unwrap();
    let csrf = r.body["csrf_token"].as_str().unwrap().to_string();
    let owner = concierge_tests::api::Api::new(&app, Auth::Session { cookie, csrf });
    let usage = owner.get("/usage").await;
    assert_eq!(usage.body["plan"]["name"], "free");
    assert_eq!(usage.body["sites"]["used"], 1);
    // The new owner sees only their own site, not the test shop.
    let sites = owner.get("/sites").await;
    assert_eq!(sites.body["items"].as_array().unwrap().len(), 1);
    let again = app.anonymous().post("/signup", body).await;
    assert_eq!(again.code(), "conflict");
}

#[tokio::test]
async fn removing_an_agent_ends_its_sessions_tokens_and_open_socket_at_once() {
    let app = spawn_app().await;
    let owner = app.member("owner").await;
    let victim = app.member("agent").await;
    let session = app.sign_in(&victim.email, &victim.password).await;
    let mut socket = Agent::connect(app.addr, &victim.token)
        .await
        .expect("socket");
    let r = app
        .bearer(&owner.token)
        .delete(&format!("/agents/{}", victim.id))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(socket.closed().await, Some(close::ACCESS_REVOKED));
    assert_eq!(session.get("/me").await.status, 401);
    assert_eq!(app.bearer(&victim.token).get("/me").await.status, 401);
    let again = app
        .anonymous()
        .post(
            "/session",
            json!({"email": victim.email, "password": victim.password}),
        )
        .await;
    assert_eq!(again.status, 401);
    let audit = app
        .bearer(&owner.token)
        .get("/audit?action=agent_removed")
        .await;
    assert_eq!(audit.body["items"][0]["target"], victim.email.as_str());
    assert_eq!(audit.body["items"][0]["actor_email"], owner.email.as_str());
}

#[tokio::test]
async fn roles_decide_who_manages_sites_agents_and_the_audit_log() {
    let app = spawn_app().await;
    let agent = app.bearer(&app.agent_token);
    let admin_member = app.member("admin").await;
    let admin = app.bearer(&admin_member.token);
    let site = json!({"name": "Second", "allowed_origins": ["https://second.example"]});
    assert_eq!(agent.post("/sites", site.clone()).await.code(), "forbidden");
    assert_eq!(agent.get("/audit").await.code(), "forbidden");
    assert_eq!(
        agent.get("/sites").await.status,
        200,
        "agents see their sites"
    );
    let made = admin.post("/sites", site).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let bad = admin
        .post(
            "/sites",
            json!({"name": "X", "allowed_origins": ["http://localhost:99999"]}),
        )
        .await;
    assert_eq!(bad.code(), "bad_frame");
    // Admins cannot touch owners; nobody demotes the last owner.
    let owner = app.member("owner").await;
    let r = admin
        .patch(&format!("/agents/{}", owner.id), json!({"role": "agent"}))
        .await;
    assert_eq!(r.code(), "forbidden");
    let r = app
        .bearer(&owner.token)
        .patch(&format!("/agents/{}", owner.id), json!({"role": "admin"}))
        .await;
    assert_eq!(r.code(), "forbidden", "{:?}", r.body);
    let r = admin
        .patch(
            &format!("/agents/{}", admin_member.id),
            json!({"role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["role"], "agent");
    assert_eq!(
        admin.get("/audit").await.code(),
        "forbidden",
        "the new role applies at once"
    );
    let log = app
        .bearer(&owner.token)
        .get("/audit?action=role_changed")
        .await;
    assert_eq!(
        log.body["items"][0]["detail"],
        json!({"from": "admin", "to": "agent"})
    );
}

#[tokio::test]
async fn a_rotated_site_key_is_refused_at_once_and_sites_can_be_renamed() {
    let app = spawn_app().await;
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let r = api
        .post(&format!("/sites/{}/rotate-key", app.site_key), json!({}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let new_key = r.body["site_key"].as_str().unwrap().to_string();
    assert_ne!(new_key, app.site_key);
    let old = concierge_tests::Visitor::connect(
        &app.visitor_url(&app.site_key),
        Some(concierge_tests::ORIGIN),
    )
    .await;
    assert!(old.is_err(), "the old key is refused");
    concierge_tests::Visitor::connect(&app.visitor_url(&new_key), Some(concierge_tests::ORIGIN))
        .await
        .expect("new key works");
    let renamed = api.patch(&format!("/sites/{new_key}"), json!({"name": "Renamed", "allowed_origins": ["https://a.example", "http://localhost:*"]})).await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(renamed.body["name"], "Renamed");
    assert_eq!(renamed.body["allowed_origins"][1], "http://localhost:*");
    let log = api.get("/audit").await;
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"site_key_rotated") && actions.contains(&"site_updated"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn the_audit_log_records_sign_ins_and_failures_newest_first_in_pages() {
    let app = spawn_app().await;
    let owner = app.member("owner").await;
    let api = app.anonymous();
    api.post(
        "/session",
        json!({"email": owner.email, "password": "wrong wrong wrong"}),
    )
    .await;
    for _ in 0..3 {
        app.sign_in(&owner.email, &owner.password).await;
    }
    let admin = app.bearer(&owner.token);
    let page1 = admin.get("/audit?limit=2").await;
    let items = page1.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "login");
    let cursor = page1.body["next_cursor"].as_str().unwrap();
    let page2 = admin.get(&format!("/audit?limit=2&cursor={cursor}")).await;
    let rest = page2.body["items"].as_array().unwrap();
    assert!(rest
        .iter()
        .any(|e| e["action"] == "login_failed" || e["action"] == "login"));
    assert!(
        rest.iter()
            .all(|e| !items.iter().any(|i| i["id"] == e["id"])),
        "pages do not overlap"
    );
    let failed = admin.get("/audit?action=login_failed").await;
    assert_eq!(failed.body["items"][0]["target"], owner.email.as_str());
    assert!(failed.body["items"][0]["ip"]
        .as_str()
        .unwrap()
        .starts_with("127."));
    assert_eq!(admin.get("/audit?cursor=garbage").await.code(), "bad_frame");
}
