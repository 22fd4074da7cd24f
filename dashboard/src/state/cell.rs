//! [`Cell`]: the app's state values, reactive like Leptos signals, at a fraction of their code.
//!
//! Every `RwSignal<T>` instantiates Leptos's signal machinery (its arena slot, locks, guards,
//! subscriber lists) for its `T`: about 3 KB of wasm per type, and the app's state holds some
//! twenty types. A `Cell<T>` keeps its value in a `RefCell` and its subscribers in one
//! [`ArcTrigger`] (the same, non-generic code for every type): reading tracks the trigger,
//! writing notifies it. Effects, memos and views follow a cell exactly as they follow a signal.
//!
//! Cells live as long as the app (the state is made once, when the app mounts); a component's
//! own short-lived values stay ordinary signals.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;

use leptos::prelude::{ArcTrigger, Notify, Track};

struct Slot<T> {
    trigger: ArcTrigger,
    value: RefCell<T>,
}

thread_local! {
    static SLOTS: RefCell<Vec<Rc<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// A reactive value of the app's state: a `Copy` handle, like a signal.
pub struct Cell<T: 'static> {
    index: usize,
    _value: PhantomData<fn() -> T>,
}

impl<T> Clone for Cell<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Cell<T> {}

impl<T: 'static> Cell<T> {
    pub fn new(value: T) -> Self {
        let slot: Rc<dyn Any> = Rc::new(Slot {
            trigger: ArcTrigger::new(),
            value: RefCell::new(value),
        });
        let index = SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            s.push(slot);
            s.len() - 1
        });
        Cell {
            index,
            _value: PhantomData,
        }
    }

    fn slot(&self) -> Rc<Slot<T>> {
        let any = SLOTS.with(|s| s.borrow()[self.index].clone());
        match any.downcast::<Slot<T>>() {
            Ok(slot) => slot,
            // A handle is only ever made by `new` with its own type.
            Err(_) => unreachable!("a cell read as another type"),
        }
    }

    /// Reads the value without subscribing.
    pub fn with_untracked<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.slot().value.borrow())
    }

    /// Reads the value and subscribes the running effect, memo or view to it.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let slot = self.slot();
        slot.trigger.track();
        let value = slot.value.borrow();
        f(&value)
    }

    /// Subscribes without reading.
    pub fn track(&self) {
        self.slot().trigger.track();
    }

    /// Changes the value in place and notifies its subscribers.
    pub fn update(&self, f: impl FnOnce(&mut T)) {
        let slot = self.slot();
        f(&mut slot.value.borrow_mut());
        slot.trigger.notify();
    }

    /// Replaces the value and notifies its subscribers.
    pub fn set(&self, value: T) {
        self.update(|v| *v = value);
    }
}

impl<T: Clone + 'static> Cell<T> {
    /// A copy of the value, subscribing.
    pub fn get(&self) -> T {
        self.with(T::clone)
    }

    /// A copy of the value, without subscribing.
    pub fn get_untracked(&self) -> T {
        self.with_untracked(T::clone)
    }
}
