//! The agent socket (`/ws/agent`, authenticated by the session cookie): `hello`, frames in,
//! a ping every 20 s, and a new socket after any close or silence — with exponential backoff
//! and jitter — after which the app resyncs (see `state::AppState::resync`). Close code 4001
//! (the session ended) is final: the app goes back to sign-in.

use std::cell::RefCell;
use std::rc::Rc;

use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame};
use concierge_protocol::{close, PROTOCOL_VERSION};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// Longest wait between reconnection attempts.
const MAX_BACKOFF_MS: f64 = 15_000.0;
/// A ping this often; the server answers `pong`.
const PING_EVERY_MS: i32 = 20_000;
/// Nothing heard for this long (a laptop that slept, a dead NAT entry): reconnect.
const SILENCE_MS: f64 = 45_000.0;

/// What the connection is doing, as shown to the agent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Conn {
    Connecting,
    Open,
    /// Lost; the next attempt is scheduled.
    Retrying,
    /// The session ended (signed out elsewhere, revoked): sign in again.
    Ended,
}

pub type OnFrame = Rc<dyn Fn(AgentServerFrame)>;
pub type OnConn = Rc<dyn Fn(Conn)>;

struct Inner {
    ws: Option<WebSocket>,
    callbacks: Vec<Closure<dyn FnMut(JsValue)>>,
    /// Bumped per socket, so callbacks of a replaced socket do nothing.
    generation: u32,
    attempts: u32,
    last_heard: f64,
    stopped: bool,
    on_frame: OnFrame,
    on_conn: OnConn,
    timer: Option<(i32, Closure<dyn FnMut()>)>,
}

thread_local! {
    static SOCKET: RefCell<Option<Rc<RefCell<Inner>>>> = const { RefCell::new(None) };
}

fn window() -> web_sys::Window {
    web_sys::window().expect("a browser window")
}

fn socket_url() -> String {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}://{host}/ws/agent")
}

/// Opens the socket (replacing any earlier one).
pub fn start(on_frame: OnFrame, on_conn: OnConn) {
    stop();
    let inner = Rc::new(RefCell::new(Inner {
        ws: None,
        callbacks: Vec::new(),
        generation: 0,
        attempts: 0,
        last_heard: js_sys::Date::now(),
        stopped: false,
        on_frame,
        on_conn,
        timer: None,
    }));
    SOCKET.with(|s| *s.borrow_mut() = Some(inner.clone()));
    start_heartbeat(&inner);
    connect(&inner);
}

/// Closes the socket for good (sign-out).
pub fn stop() {
    if let Some(inner) = SOCKET.with(|s| s.borrow_mut().take()) {
        let mut i = inner.borrow_mut();
        i.stopped = true;
        if let Some(ws) = i.ws.take() {
            detach(&ws);
            let _ = ws.close();
        }
        i.callbacks.clear();
        if let Some((id, _)) = i.timer.take() {
            window().clear_interval_with_handle(id);
        }
    }
}

/// Sends a frame when the socket is open; false otherwise (the caller may retry over REST).
pub fn send(frame: &AgentClientFrame) -> bool {
    SOCKET.with(|s| {
        let Some(inner) = s.borrow().clone() else {
            return false;
        };
        let i = inner.borrow();
        match &i.ws {
            Some(ws) if ws.ready_state() == WebSocket::OPEN => serde_json::to_string(frame)
                .ok()
                .is_some_and(|text| ws.send_with_str(&text).is_ok()),
            _ => false,
        }
    })
}

/// Drops the current socket and connects again now (the browser came back online).
pub fn reconnect_now() {
    if let Some(inner) = SOCKET.with(|s| s.borrow().clone()) {
        drop_socket(&inner);
        inner.borrow_mut().attempts = 0;
        connect(&inner);
    }
}

fn detach(ws: &WebSocket) {
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onclose(None);
    ws.set_onerror(None);
}

fn drop_socket(inner: &Rc<RefCell<Inner>>) {
    let mut i = inner.borrow_mut();
    if let Some(ws) = i.ws.take() {
        detach(&ws);
        let _ = ws.close();
    }
    i.callbacks.clear();
}

fn connect(inner: &Rc<RefCell<Inner>>) {
    if inner.borrow().stopped {
        return;
    }
    let on_conn = inner.borrow().on_conn.clone();
    on_conn(Conn::Connecting);
    let Ok(ws) = WebSocket::new(&socket_url()) else {
        schedule_retry(inner);
        return;
    };
    let generation = {
        let mut i = inner.borrow_mut();
        i.generation = i.generation.wrapping_add(1);
        i.last_heard = js_sys::Date::now();
        i.generation
    };
    let current = {
        let inner = Rc::downgrade(inner);
        move || {
            inner
                .upgrade()
                .filter(|i| i.borrow().generation == generation && !i.borrow().stopped)
        }
    };
    let opened = Closure::<dyn FnMut(JsValue)>::new({
        let current = current.clone();
        move |_| {
            if let Some(inner) = current() {
                inner.borrow_mut().attempts = 0;
                let hello = AgentClientFrame::Hello {
                    v: PROTOCOL_VERSION,
                };
                if let (Some(ws), Ok(text)) =
                    (inner.borrow().ws.clone(), serde_json::to_string(&hello))
                {
                    let _ = ws.send_with_str(&text);
                }
                let on_conn = inner.borrow().on_conn.clone();
                on_conn(Conn::Open);
            }
        }
    });
    let message = Closure::<dyn FnMut(JsValue)>::new({
        let current = current.clone();
        move |e: JsValue| {
            let Some(inner) = current() else { return };
            inner.borrow_mut().last_heard = js_sys::Date::now();
            let text = e
                .dyn_ref::<MessageEvent>()
                .and_then(|m| m.data().as_string());
            if let Some(frame) = text.and_then(|t| crate::decode::frame(&t)) {
                let on_frame = inner.borrow().on_frame.clone();
                on_frame(frame);
            }
        }
    });
    let closed = Closure::<dyn FnMut(JsValue)>::new({
        let current = current.clone();
        move |e: JsValue| {
            let Some(inner) = current() else { return };
            let code = e.dyn_ref::<CloseEvent>().map(|c| c.code()).unwrap_or(0);
            inner.borrow_mut().ws = None;
            if code == close::ACCESS_REVOKED {
                inner.borrow_mut().stopped = true;
                let on_conn = inner.borrow().on_conn.clone();
                on_conn(Conn::Ended);
            } else {
                schedule_retry(&inner);
            }
        }
    });
    ws.set_onopen(Some(opened.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(closed.as_ref().unchecked_ref()));
    let mut i = inner.borrow_mut();
    i.ws = Some(ws);
    i.callbacks = vec![opened, message, closed];
}

fn schedule_retry(inner: &Rc<RefCell<Inner>>) {
    let (delay, on_conn) = {
        let mut i = inner.borrow_mut();
        if i.stopped {
            return;
        }
        i.attempts = i.attempts.saturating_add(1);
        let base = (500.0 * 2f64.powi(i.attempts.min(6) as i32)).min(MAX_BACKOFF_MS);
        (
            base * (0.5 + js_sys::Math::random() / 2.0),
            i.on_conn.clone(),
        )
    };
    on_conn(Conn::Retrying);
    let weak = Rc::downgrade(inner);
    let retry = Closure::once_into_js(move || {
        if let Some(inner) = weak.upgrade() {
            if inner.borrow().ws.is_none() {
                connect(&inner);
            }
        }
    });
    let _ = window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(retry.unchecked_ref(), delay as i32);
}

/// Pings while open; a socket silent for [`SILENCE_MS`] is replaced.
fn start_heartbeat(inner: &Rc<RefCell<Inner>>) {
    let weak = Rc::downgrade(inner);
    let tick = Closure::<dyn FnMut()>::new(move || {
        let Some(inner) = weak.upgrade() else { return };
        if inner.borrow().stopped {
            return;
        }
        let (ws, last_heard) = {
            let i = inner.borrow();
            (i.ws.clone(), i.last_heard)
        };
        let Some(ws) = ws else { return };
        if ws.ready_state() != WebSocket::OPEN {
            return;
        }
        if js_sys::Date::now() - last_heard > SILENCE_MS {
            drop_socket(&inner);
            schedule_retry(&inner);
        } else if let Ok(text) = serde_json::to_string(&AgentClientFrame::Ping) {
            let _ = ws.send_with_str(&text);
        }
    });
    let id = window()
        .set_interval_with_callback_and_timeout_and_arguments_0(
            tick.as_ref().unchecked_ref(),
            PING_EVERY_MS,
        )
        .unwrap_or(0);
    inner.borrow_mut().timer = Some((id, tick));
}
