//! Which conversation the socket follows: `hello` joins one, `new_conversation` switches to a
//! fresh one, `list_conversations` shows the visitor's others.

use std::sync::Arc;

use concierge_protocol::visitor::VisitorServerFrame;
use futures_util::Sink;

use super::events::resync;
use super::{error, Joined};
use crate::app::App;
use crate::bus::Subscription;
use crate::chat::Hello;
use crate::error::chat_error_code;
use crate::store::Site;
use crate::ws::conn::{Closed, Conn};
use crate::ws::tracker::SeqTracker;
use crate::ws::Outgoing;

/// Resolves the hello, subscribes to its conversation, answers `welcome` with the history.
pub(super) async fn on_hello<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    site: &Site,
    conn: &mut Conn<S>,
    joined: &mut Option<Joined>,
    sub: &mut Option<Subscription>,
    hello: Hello<'_>,
) -> Result<(), Closed> {
    let session = match app.chat.visitor_hello(site, hello).await {
        Ok(s) => s,
        Err(e) => {
            let (code, message) = chat_error_code(&e);
            return conn.error(code, &error(code, message)).await;
        }
    };
    // Subscribe before answering, then re-read once: nothing published between the history
    // read and the subscription can fall through the crack.
    *sub = Some(app.hub.subscribe_conversation(&session.conversation.id));
    let mut tracker = SeqTracker::new(session.after_seq);
    let messages: Vec<_> = session.messages.iter().map(|m| m.view()).collect();
    for m in &messages {
        tracker.message(m);
    }
    let resumed = session.new_token.is_none();
    let token = match session.new_token {
        Some(t) => t,
        None => hello.token.unwrap_or_default().to_string(),
    };
    conn.send(&VisitorServerFrame::Welcome {
        visitor_token: token.clone(),
        conversation_id: session.conversation.id.clone(),
        status: session.conversation.status,
        messages,
    })
    .await?;
    let span = tracing::Span::current();
    span.record("visitor", tracing::field::display(&session.visitor.id));
    span.record(
        "conversation",
        tracing::field::display(&session.conversation.id),
    );
    tracing::info!(resumed, after_seq = session.after_seq, "visitor joined");
    let j = joined.insert(Joined {
        visitor: session.visitor,
        token,
        conversation: session.conversation,
        tracker,
    });
    resync(app, conn, j).await
}

/// Starts a conversation, moves the socket's subscription to it, answers `welcome`.
pub(super) async fn on_new_conversation<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    conn: &mut Conn<S>,
    j: &mut Joined,
    sub: &mut Option<Subscription>,
) -> Result<(), Closed> {
    let conversation = match app.chat.visitor_new_conversation(&j.visitor).await {
        Ok(c) => c,
        Err(e) => {
            let (code, message) = chat_error_code(&e);
            return conn.error(code, &error(code, message)).await;
        }
    };
    *sub = Some(app.hub.subscribe_conversation(&conversation.id));
    j.tracker = SeqTracker::new(0);
    conn.send(&VisitorServerFrame::Welcome {
        visitor_token: j.token.clone(),
        conversation_id: conversation.id.clone(),
        status: conversation.status,
        messages: Vec::new(),
    })
    .await?;
    // Recorded again: the session's later lines are about the new conversation.
    tracing::Span::current().record("conversation", tracing::field::display(&conversation.id));
    tracing::info!("visitor started a new conversation");
    j.conversation = conversation;
    resync(app, conn, j).await
}

/// Answers `conversations`: the visitor's, newest first.
pub(super) async fn on_list_conversations<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    conn: &mut Conn<S>,
    j: &Joined,
) -> Result<(), Closed> {
    match app.chat.visitor_conversations(&j.visitor).await {
        Ok(conversations) => {
            conn.send(&VisitorServerFrame::Conversations { conversations })
                .await
        }
        Err(e) => {
            let (code, message) = chat_error_code(&e);
            conn.error(code, &error(code, message)).await
        }
    }
}
