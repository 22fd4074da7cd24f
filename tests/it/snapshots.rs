//! Snapshots of a conversation or a ticket are published by concurrent tasks (and nodes) that
//! read the row at different times, so they can arrive out of order; the sockets keep the
//! newer one by its `rev` (ARCHITECTURE.md, "A conversation or ticket snapshot never goes
//! back"). Each test publishes a stale snapshot late, as such a task would.

use concierge::bus::EventKind;
use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame};
use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::{ConversationStatus, TicketStatus};
use concierge_tests::escalation::next_ticket;
use concierge_tests::*;

/// The visitor's next `status` frame.
async fn status_of(v: &mut Visitor) -> ConversationStatus {
    v.wait_for(|f| match f {
        VisitorServerFrame::Status { status, .. } => Some(*status),
        _ => None,
    })
    .await
    .expect("status frame")
}

/// Snapshots of a conversation are published by concurrent tasks that read it at different
/// times: a bot turn's mood update that read "agent" can be published after the hand-back.
/// Neither side may go back to an older status, and the bot's "searching" must not show while
/// a person has the conversation.
#[tokio::test]
async fn a_stale_snapshot_published_late_does_not_undo_a_newer_status() {
    let app = spawn_app().await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    let cid = w.conversation_id.clone();
    v.say("q", "hello there").await.unwrap();
    // The turn's assessment stores the mood (and publishes it): wait until it has.
    for _ in 0..200 {
        if app.conversation(&cid).await.mood.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(app.conversation(&cid).await.mood.is_some(), "the turn ran");

    agent
        .send(&AgentClientFrame::TakeOver {
            conversation_id: cid.clone(),
        })
        .await;
    assert_eq!(status_of(&mut v).await, ConversationStatus::Agent);
    let stale = app.conversation(&cid).await;
    assert_eq!(stale.status, ConversationStatus::Agent);
    let (site_id, chat) = (stale.site_id.clone(), app.app.chat.clone());
    // A bot turn that read the conversation before the take-over says it is searching.
    chat.publish(
        &site_id,
        &cid,
        EventKind::Phase {
            status: ConversationStatus::Bot,
            phase: concierge_protocol::Phase::Searching,
        },
    )
    .await;
    agent
        .send(&AgentClientFrame::HandBack {
            conversation_id: cid.clone(),
        })
        .await;
    let back = v
        .wait_for(|f| match f {
            VisitorServerFrame::Status { status, phase, .. } => Some((*status, *phase)),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(
        back,
        (ConversationStatus::Bot, None),
        "no bot phase while a person had it"
    );
    let agent_saw = |status: ConversationStatus| {
        let cid = cid.clone();
        move |f: &AgentServerFrame| match f {
            AgentServerFrame::Conversation { conversation }
                if conversation.id == cid && conversation.status != status =>
            {
                Some((conversation.status, conversation.rev))
            }
            _ => None,
        }
    };
    // The agent's own frames: taken over, then handed back.
    let (taken, taken_rev) = agent
        .wait_for(agent_saw(ConversationStatus::Bot))
        .await
        .unwrap();
    assert_eq!((taken, taken_rev), (ConversationStatus::Agent, stale.rev));
    let (handed, handed_rev) = agent
        .wait_for(agent_saw(ConversationStatus::Agent))
        .await
        .unwrap();
    assert_eq!(handed, ConversationStatus::Bot);
    assert!(handed_rev > stale.rev);

    // The snapshot read while the agent had it arrives now, then the agent resolves.
    chat.publish(
        &site_id,
        &cid,
        EventKind::Conversation {
            conversation: stale.view(),
        },
    )
    .await;
    agent
        .send(&AgentClientFrame::Resolve {
            conversation_id: cid.clone(),
        })
        .await;
    assert_eq!(
        status_of(&mut v).await,
        ConversationStatus::Resolved,
        "the visitor is not told a person joined again"
    );
    let (next, next_rev) = agent
        .wait_for(agent_saw(ConversationStatus::Bot))
        .await
        .unwrap();
    assert_eq!(
        next,
        ConversationStatus::Resolved,
        "the agent's inbox does not go back"
    );
    assert!(next_rev > handed_rev);
}

/// A ticket snapshot published late (read before an agent took the ticket over) never undoes
/// a newer one on the agents' sockets: they keep the one with the higher `rev`.
#[tokio::test]
async fn a_stale_ticket_snapshot_published_late_is_dropped() {
    let app = spawn_app().await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    let open = next_ticket(&mut agent, |t| t.status == TicketStatus::Open).await;
    agent
        .send(&AgentClientFrame::TakeOver {
            conversation_id: w.conversation_id.clone(),
        })
        .await;
    let taken = next_ticket(&mut agent, |t| t.status == TicketStatus::Pending).await;
    assert!(taken.rev > open.rev, "{} > {}", taken.rev, open.rev);
    let site_id = app.conversation(&w.conversation_id).await.site_id;
    app.app
        .chat
        .publish(
            &site_id,
            &w.conversation_id,
            EventKind::Ticket {
                ticket: Box::new(open.clone()),
            },
        )
        .await;
    agent
        .send(&AgentClientFrame::Resolve {
            conversation_id: w.conversation_id.clone(),
        })
        .await;
    let next = next_ticket(&mut agent, |t| t.status != TicketStatus::Pending).await;
    assert_eq!(
        next.status,
        TicketStatus::Solved,
        "the open snapshot was dropped"
    );
    assert!(next.rev > taken.rev);
}
