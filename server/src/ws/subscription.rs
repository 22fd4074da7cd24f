//! A hub subscription as a `Stream`, so one agent socket can merge the channels of all its
//! sites with `SelectAll`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::bus::{Event, Subscription};

type RecvFuture = Pin<
    Box<dyn std::future::Future<Output = (Result<Arc<Event>, RecvError>, Subscription)> + Send>,
>;

/// Yields `Some(event)`, or `None` after a lag (events were skipped).
pub struct SubscriptionStream {
    fut: Option<RecvFuture>,
}

impl SubscriptionStream {
    pub fn new(sub: Subscription) -> Self {
        SubscriptionStream {
            fut: Some(Self::recv(sub)),
        }
    }

    fn recv(mut sub: Subscription) -> RecvFuture {
        Box::pin(async move {
            let r = sub.rx.recv().await;
            (r, sub)
        })
    }
}

impl Stream for SubscriptionStream {
    type Item = Option<Arc<Event>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(fut) = self.fut.as_mut() else {
            return Poll::Ready(None);
        };
        match fut.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready((res, sub)) => match res {
                Ok(ev) => {
                    self.fut = Some(Self::recv(sub));
                    Poll::Ready(Some(Some(ev)))
                }
                Err(RecvError::Lagged(_)) => {
                    self.fut = Some(Self::recv(sub));
                    Poll::Ready(Some(None))
                }
                Err(RecvError::Closed) => {
                    self.fut = None;
                    Poll::Ready(None)
                }
            },
        }
    }
}
