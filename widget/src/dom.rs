//! Small DOM helpers. Text always goes in through text nodes or `textContent`; nothing here
//! parses HTML.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, EventTarget, Window};

pub fn window() -> Window {
    web_sys::window().expect_throw("no window")
}

pub fn document() -> Document {
    window().document().expect_throw("no document")
}

/// `<tag class="class">`.
pub fn el(tag: &str, class: &str) -> Element {
    let e = document().create_element(tag).expect_throw("createElement");
    if !class.is_empty() {
        e.set_class_name(class);
    }
    e
}

/// `<tag class="class">text</tag>`.
pub fn el_text(tag: &str, class: &str, text: &str) -> Element {
    let e = el(tag, class);
    e.set_text_content(Some(text));
    e
}

pub fn attr(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

pub fn append(parent: &Element, child: &Element) {
    let _ = parent.append_child(child);
}

pub fn append_text(parent: &Element, text: &str) {
    let _ = parent.append_child(&document().create_text_node(text));
}

pub fn clear(e: &Element) {
    e.set_text_content(None);
}

pub fn show(e: &Element, visible: bool) {
    if visible {
        let _ = e.remove_attribute("hidden");
    } else {
        attr(e, "hidden", "");
    }
}

/// A button with a text label or, when `label` is set, an icon's accessible name.
pub fn button(class: &str, text: &str, label: &str) -> Element {
    let b = el_text("button", class, text);
    attr(&b, "type", "button");
    if !label.is_empty() {
        attr(&b, "aria-label", label);
        attr(&b, "title", label);
    }
    b
}

/// Adds a listener for the widget's lifetime.
pub fn on(target: &EventTarget, event: &str, f: impl FnMut(Event) + 'static) {
    let cb = Closure::<dyn FnMut(Event)>::new(f);
    let _ = target.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
    cb.forget();
}

/// Runs `f` once after `ms` milliseconds.
pub fn later(ms: i32, f: impl FnOnce() + 'static) {
    let cb = Closure::once_into_js(f);
    let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), ms);
}

pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A random id for `client_msg_id` (16 hex characters).
pub fn random_id() -> String {
    let mut s = String::with_capacity(16);
    for _ in 0..2 {
        let n = (js_sys::Math::random() * 4_294_967_296.0) as u32;
        for shift in (0..8).rev() {
            let d = (n >> (shift * 4)) & 0xf;
            s.push(char::from_digit(d, 16).unwrap_or('0'));
        }
    }
    s
}
