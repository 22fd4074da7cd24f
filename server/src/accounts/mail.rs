//! Sending the links people need (invitations, password resets) by email. Behind a small trait
//! so the server runs without any mail set-up: with `CONCIERGE_SMTP_URL` unset the links are
//! written to the log for the operator (and invitations are returned to the inviter anyway).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("bad CONCIERGE_SMTP_URL: {0}")]
    Config(String),
    #[error("bad address {0:?}")]
    Address(String),
    #[error("the mail server refused or did not answer: {0}")]
    Send(String),
}

/// What became of a message; the inviter's answer names it (`delivery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[strum(serialize_all = "snake_case")]
pub enum Delivery {
    Mailed,
    /// No mail transport: written to the server log.
    Logged,
    Failed,
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<Delivery, MailError>;
}

/// No transport configured: the message goes to the log.
pub struct LogMailer;

#[async_trait::async_trait]
impl Mailer for LogMailer {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<Delivery, MailError> {
        tracing::info!(%to, %subject, %body, "mail not sent (no CONCIERGE_SMTP_URL): written here");
        Ok(Delivery::Logged)
    }
}

/// SMTP through lettre: `smtp://[user:pass@]host[:port][?tls=required|opportunistic]` or
/// `smtps://...` (TLS from the first byte).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Config(e.to_string()))?
            .timeout(Some(Duration::from_secs(10)))
            .build();
        let from = from
            .parse()
            .map_err(|_| MailError::Address(from.to_string()))?;
        Ok(SmtpMailer { transport, from })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<Delivery, MailError> {
        let to: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_string()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body.to_string())
            .map_err(|e| MailError::Send(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        Ok(Delivery::Mailed)
    }
}

/// The message inviting someone to an account.
pub fn invitation(account: &str, inviter: &str, url: &str, hours: i64) -> (String, String) {
    (
        format!("{inviter} invited you to {account} on Concierge"),
        format!(
            "{inviter} invited you to answer support chats for {account}.\n\n\
             Accept the invitation and choose your password here (valid for {hours} hours, once):\n\
             {url}\n\nIf you did not expect this, ignore this email."
        ),
    )
}

/// The message with a password-reset link.
pub fn reset(url: &str, minutes: i64) -> (String, String) {
    (
        "Reset your Concierge password".to_string(),
        format!(
            "Someone asked to reset the password of this email address on Concierge.\n\n\
             Choose a new password here (valid for {minutes} minutes, once):\n{url}\n\n\
             If it was not you, ignore this email: your password has not changed."
        ),
    )
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::Delivery;

    #[test]
    fn deliveries_keep_the_names_the_inviter_reads() {
        let names: Vec<&str> = Delivery::iter().map(<&str>::from).collect();
        assert_eq!(names, ["mailed", "logged", "failed"]);
    }
}
