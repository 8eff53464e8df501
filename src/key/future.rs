//! The future a key operation returns.

use crate::Result;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future of a key operation of [`KeyedAsync`](crate::KeyedAsync) or
/// [`Sharded`](crate::Sharded): `.await` it, or hand it to `join_all` like any future.
///
/// A named type rather than an `async fn`'s anonymous one so that a key mistake is one
/// compile error, reported where the method is called: an `async fn` repeats a failed bound
/// at the argument, the call and the `.await`. The operation's work is boxed once, as
/// diesel-async boxes each statement's future.
///
/// ```
/// # use grant::__doc_schema::{OrderItem, two_sqlite_shards};
/// use grant::KeyFuture;
/// # #[tokio::main]
/// # async fn main() -> grant::Result<()> {
/// # let (shards, _dir) = two_sqlite_shards().await;
/// let finds: Vec<KeyFuture<'_, Option<OrderItem>>> =
///     (1..=3).map(|o| shards.find::<OrderItem, _>((o, 1))).collect();
/// let found = futures_util::future::try_join_all(finds).await?;
/// assert_eq!(found.len(), 3);
/// # Ok(())
/// # }
/// ```
#[must_use = "a key operation does nothing until it is awaited"]
pub struct KeyFuture<'a, T> {
    inner: Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>,
}

impl<'a, T> KeyFuture<'a, T> {
    pub(crate) fn new(future: impl Future<Output = Result<T>> + Send + 'a) -> Self {
        KeyFuture {
            inner: Box::pin(future),
        }
    }
}

impl<T> Future for KeyFuture<'_, T> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        self.inner.as_mut().poll(cx)
    }
}

impl<T> fmt::Debug for KeyFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyFuture { .. }")
    }
}
