//! Invitation and reset links mailed through a real SMTP server (aiosmtpd), and followed from
//! the mail; without a mail transport they are reported as logged.

use concierge_tests::smtp::SmtpSink;
use concierge_tests::*;
use serde_json::json;

/// The `/app/{kind}/TOKEN` link in a mail.
fn link_token(mail: &str, kind: &str) -> String {
    let at = mail
        .find(&format!("/app/{kind}/"))
        .unwrap_or_else(|| panic!("no {kind} link in {mail}"));
    mail[at + kind.len() + 6..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

#[tokio::test]
#[ignore = "needs an SMTP server (CONCIERGE_TEST_SMTP_PYTHON)"]
async fn invitations_and_resets_are_mailed_and_the_mailed_links_work() {
    let mut smtp = SmtpSink::start().await;
    let app = spawn_with(Options {
        smtp_url: Some(smtp.url()),
        public_url: Some("https://support.example".into()),
        ..Options::default()
    })
    .await
    .unwrap();
    let owner = app.member("owner").await;
    let r = app
        .bearer(&owner.token)
        .post(
            "/invitations",
            json!({"email": "mia@shop.example", "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["delivery"], "mailed");
    let mail = smtp.next_message().await;
    assert!(mail.contains("To: mia@shop.example"), "{mail}");
    assert!(mail.contains("Subject: owner invited you to"), "{mail}");
    assert!(
        mail.contains("https://support.example/app/invite/"),
        "{mail}"
    );
    let token = link_token(&mail, "invite");
    assert_eq!(token, r.body["token"].as_str().unwrap());
    let accepted = app
        .anonymous()
        .post(
            &format!("/invitations/{token}/accept"),
            json!({"name": "Mia", "password": "mia's long password"}),
        )
        .await;
    assert_eq!(
        accepted.status, 201,
        "the mailed link signs Mia in: {:?}",
        accepted.body
    );

    // A reset asked for by anyone is mailed to the agent (and only to an agent).
    let asked = app
        .anonymous()
        .post("/password-resets", json!({"email": "mia@shop.example"}))
        .await;
    assert_eq!(asked.status, 202);
    let mail = smtp.next_message().await;
    assert!(
        mail.contains("To: mia@shop.example") && mail.contains("Reset your Concierge password"),
        "{mail}"
    );
    let token = link_token(&mail, "reset");
    let done = app
        .anonymous()
        .post(
            &format!("/password-resets/{token}/accept"),
            json!({"password": "mia's new password!"}),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    app.sign_in("mia@shop.example", "mia's new password!").await;
}

#[tokio::test]
async fn without_a_mail_transport_links_are_logged_and_a_dead_one_is_reported() {
    let app = spawn_app().await;
    let owner = app.member("owner").await;
    let r = app
        .bearer(&owner.token)
        .post(
            "/invitations",
            json!({"email": "x@shop.example", "role": "agent"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["delivery"].as_str()),
        (201, Some("logged"))
    );
    // A configured server that does not answer: the link is still created and returned.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let app = spawn_with(Options {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        ..Options::default()
    })
    .await
    .unwrap();
    let owner = app.member("owner").await;
    let r = app
        .bearer(&owner.token)
        .post(
            "/invitations",
            json!({"email": "y@shop.example", "role": "agent"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["delivery"].as_str()),
        (201, Some("failed")),
        "{:?}",
        r.body
    );
    assert!(r.body["token"].as_str().unwrap().starts_with("inv_"));
    let bad = spawn_with(Options {
        smtp_url: Some("ftp://nope".into()),
        ..Options::default()
    })
    .await;
    assert!(
        bad.is_err(),
        "a bad CONCIERGE_SMTP_URL stops the start with a clear error"
    );
}
