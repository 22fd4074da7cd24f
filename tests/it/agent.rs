use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame};
use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::{Author, ConversationStatus, ErrorCode};
use concierge_tests::*;

#[tokio::test]
async fn an_agent_sees_visitor_messages_and_the_reply_reaches_the_visitor() {
    let app = spawn_app().await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q1", "Where is my order?").await.unwrap();

    let conv = agent
        .wait_for(|f| match f {
            AgentServerFrame::Conversation { conversation } => Some(conversation.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(conv.id, w.conversation_id);
    assert_eq!(conv.site_key, app.site_key);
    let (cid, m) = agent
        .wait_for(|f| match f {
            AgentServerFrame::Message {
                conversation_id,
                message,
            } => Some((conversation_id.clone(), message.clone())),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(
        (cid.as_str(), m.seq, m.text.as_str()),
        (w.conversation_id.as_str(), 1, "Where is my order?")
    );

    let seq = agent
        .reply(&w.conversation_id, "r1", "It ships **today**.")
        .await
        .unwrap();
    // Replying took the conversation over: a system line (seq 2) then the reply (seq 3).
    assert_eq!(seq, 3);
    let reply = v.agent_message().await;
    assert_eq!(reply.text, "It ships **today**.");
    assert_eq!(reply.author_name.as_deref(), Some("Alice"));
    assert_eq!(reply.seq, 3);
}

#[tokio::test]
async fn take_over_hand_back_and_resolve_change_status_for_the_visitor() {
    let app = spawn_app().await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q", "help").await.unwrap();

    agent
        .send(&AgentClientFrame::TakeOver {
            conversation_id: w.conversation_id.clone(),
        })
        .await;
    assert_eq!(
        status_of(&mut v).await.unwrap(),
        (ConversationStatus::Agent, Some("Alice".into()))
    );
    agent
        .send(&AgentClientFrame::HandBack {
            conversation_id: w.conversation_id.clone(),
        })
        .await;
    assert_eq!(status_of(&mut v).await.unwrap().0, ConversationStatus::Bot);
    agent
        .send(&AgentClientFrame::Resolve {
            conversation_id: w.conversation_id.clone(),
        })
        .await;
    assert_eq!(
        status_of(&mut v).await.unwrap().0,
        ConversationStatus::Resolved
    );

    // Each change left a system line in the transcript, so a resuming visitor sees it too.
    let stored = app.stored_messages(&w.conversation_id).await;
    let system: Vec<_> = stored
        .iter()
        .filter(|m| m.author == Author::System)
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(system.len(), 3, "{system:?}");
    assert!(system[0].contains("Alice joined"));

    // A new visitor message reopens the conversation with the bot, and both sides hear it.
    v.say("again", "one more thing").await.unwrap();
    assert_eq!(status_of(&mut v).await.unwrap().0, ConversationStatus::Bot);
    let reopened = agent
        .wait_for(|f| match f {
            AgentServerFrame::Conversation { conversation }
                if conversation.status == ConversationStatus::Bot && conversation.last_seq > 4 =>
            {
                Some(conversation.last_seq)
            }
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(reopened, 5);
    let c = app.conversation(&w.conversation_id).await;
    assert_eq!(c.status, ConversationStatus::Bot);
}

#[tokio::test]
async fn typing_goes_both_ways_but_never_echoes_to_the_typist() {
    let app = spawn_app().await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.send(&VisitorClientFrame::Typing { on: true }).await;
    let (cid, on, who) = agent
        .wait_for(|f| match f {
            AgentServerFrame::Typing {
                conversation_id,
                on,
                who,
            } => Some((conversation_id.clone(), *on, who.clone())),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(
        (cid.as_str(), on, who.as_str()),
        (w.conversation_id.as_str(), true, "visitor")
    );
    agent
        .send(&AgentClientFrame::Typing {
            conversation_id: w.conversation_id.clone(),
            on: true,
        })
        .await;
    let frame = v.next().await.unwrap();
    assert_eq!(
        frame,
        VisitorServerFrame::Typing {
            on: true,
            who: "Alice".into()
        }
    );
}

#[tokio::test]
async fn an_invalid_bearer_token_is_refused_with_401() {
    let app = spawn_app().await;
    let err = Agent::connect(app.addr, "agt_nope").await.err().unwrap();
    assert_eq!(err.status, 401);
    assert_eq!(err.body["code"], "invalid_token");
    let err = Agent::connect(app.addr, "").await.err().unwrap();
    assert_eq!(err.status, 401);
}

#[tokio::test]
async fn an_agent_of_another_account_neither_sees_nor_touches_the_conversation() {
    let app = spawn_app().await;
    let store = &app.app.chat.store;
    let account = store.create_account("Rival").await.unwrap();
    let rival_site =
        concierge::accounts::create_site(store, "Rival", &[ORIGIN.into()], Some(&account.id))
            .await
            .unwrap();
    concierge::accounts::create_agent(
        store,
        "mallory@rival.example",
        None,
        "owner",
        &rival_site.site_key,
    )
    .await
    .unwrap();
    let (_, token) = concierge::accounts::issue_token(store, "mallory@rival.example")
        .await
        .unwrap();
    let mut mallory = Agent::connect(app.addr, &token).await.unwrap();

    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("secret", "my card number is ...").await.unwrap();

    mallory
        .send(&AgentClientFrame::Reply {
            conversation_id: w.conversation_id.clone(),
            client_msg_id: "m".into(),
            text: "hi".into(),
        })
        .await;
    mallory
        .send(&AgentClientFrame::Sync {
            conversation_id: w.conversation_id.clone(),
            last_seq: 0,
        })
        .await;
    for _ in 0..2 {
        match mallory.next().await.unwrap() {
            AgentServerFrame::Error { code, .. } => {
                assert_eq!(code, ErrorCode::UnknownConversation)
            }
            other => panic!("rival agent saw {other:?}"),
        }
    }
    assert_eq!(app.stored_messages(&w.conversation_id).await.len(), 1);
}

#[tokio::test]
async fn sync_returns_the_history_after_last_seq() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    for i in 0..5 {
        v.say(&format!("m{i}"), &format!("text {i}")).await.unwrap();
    }
    let mut agent = app.agent().await;
    agent
        .send(&AgentClientFrame::Sync {
            conversation_id: w.conversation_id.clone(),
            last_seq: 2,
        })
        .await;
    let msgs = agent
        .wait_for(|f| match f {
            AgentServerFrame::History { messages, .. } => Some(messages.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(
        msgs.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
}

async fn status_of(v: &mut Visitor) -> anyhow::Result<(ConversationStatus, Option<String>)> {
    v.wait_for(|f| match f {
        VisitorServerFrame::Status {
            status, agent_name, ..
        } => Some((*status, agent_name.clone())),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn pipelined_replies_are_stored_in_send_order_per_conversation() {
    let app = spawn_app().await;
    let mut agent = app.agent().await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut v = app.visitor().await;
        let w = v.hello(None, None, None).await.unwrap();
        v.say("q", "hi").await.unwrap();
        ids.push(w.conversation_id);
    }
    // Fire 30 replies over two conversations without waiting for acks.
    for i in 0..30 {
        agent
            .send(&AgentClientFrame::Reply {
                conversation_id: ids[i % 2].clone(),
                client_msg_id: format!("p{i}"),
                text: format!("{i}"),
            })
            .await;
    }
    let mut acks = 0;
    while acks < 30 {
        if let AgentServerFrame::Ack { .. } = agent.next().await.unwrap() {
            acks += 1;
        }
    }
    for (k, id) in ids.iter().enumerate() {
        let texts: Vec<i64> = app
            .stored_messages(id)
            .await
            .iter()
            .filter(|m| m.author == Author::Agent)
            .map(|m| m.text.parse().unwrap())
            .collect();
        let expected: Vec<i64> = (0..30).filter(|i| i % 2 == k as i64).collect();
        assert_eq!(texts, expected, "conversation {k} keeps send order");
    }
}

#[tokio::test]
async fn a_resent_agent_reply_gets_the_same_ack_and_is_stored_once() {
    let app = spawn_app().await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q", "hi").await.unwrap();
    let first = agent
        .reply(&w.conversation_id, "same", "Hello!")
        .await
        .unwrap();
    let again = agent
        .reply(&w.conversation_id, "same", "Hello!")
        .await
        .unwrap();
    assert_eq!(first, again);
    let stored = app.stored_messages(&w.conversation_id).await;
    assert_eq!(
        stored.iter().filter(|m| m.author == Author::Agent).count(),
        1
    );
    assert_eq!(
        stored.iter().filter(|m| m.author == Author::System).count(),
        1,
        "one take-over line"
    );
}
