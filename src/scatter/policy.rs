//! What a scatter query does when a shard fails: fail fast (the default), or return what
//! the other shards answered together with the failures.

use crate::shard::ShardId;
use crate::{Error, Result};
use futures_util::future::{join_all, try_join_all};
use std::future::Future;
use std::sync::Arc;

/// A shard that failed in a scatter query run with [`Partial`].
#[derive(Debug)]
pub struct ShardFailure {
    /// The shard.
    pub shard: ShardId,
    /// Its name.
    pub name: Arc<str>,
    /// What went wrong (names the shard too).
    pub error: Error,
}

/// The result of a scatter query that tolerates failed shards: what the shards that
/// answered give, merged, and the shards that did not.
#[derive(Debug)]
pub struct PartialResult<T> {
    /// The merged result of the shards that answered.
    pub value: T,
    /// The shards that failed.
    pub failed: Vec<ShardFailure>,
}

impl<T> PartialResult<T> {
    /// Whether every shard answered.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

/// A failure policy: how shards are awaited and what the result looks like.
pub trait FailurePolicy: Copy + Send + Sync + 'static {
    /// The result of a query whose merged value is `T`.
    type Output<T: Send>: Send;
    /// Runs every shard's future; returns the results of those that answered and the
    /// failures this policy tolerates.
    fn run_all<T, Fut>(
        runs: Vec<(ShardId, Arc<str>, Fut)>,
    ) -> impl Future<Output = Result<(Vec<T>, Vec<ShardFailure>)>> + Send
    where
        T: Send,
        Fut: Future<Output = Result<T>> + Send;
    /// The output of a merged value.
    fn finish<T: Send>(value: T, failed: Vec<ShardFailure>) -> Self::Output<T>;
}

/// Fail fast (the default): the first shard to fail fails the query, with an error naming
/// it; the other shards' statements are dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct FailFast;

/// Tolerate failed shards: the query returns a [`PartialResult`] listing them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Partial;

impl FailurePolicy for FailFast {
    type Output<T: Send> = T;

    async fn run_all<T, Fut>(
        runs: Vec<(ShardId, Arc<str>, Fut)>,
    ) -> Result<(Vec<T>, Vec<ShardFailure>)>
    where
        T: Send,
        Fut: Future<Output = Result<T>> + Send,
    {
        Ok((
            try_join_all(runs.into_iter().map(|(_, _, f)| f)).await?,
            Vec::new(),
        ))
    }

    fn finish<T: Send>(value: T, _failed: Vec<ShardFailure>) -> T {
        value
    }
}

impl FailurePolicy for Partial {
    type Output<T: Send> = PartialResult<T>;

    async fn run_all<T, Fut>(
        runs: Vec<(ShardId, Arc<str>, Fut)>,
    ) -> Result<(Vec<T>, Vec<ShardFailure>)>
    where
        T: Send,
        Fut: Future<Output = Result<T>> + Send,
    {
        {
            let (ids, futures): (Vec<_>, Vec<_>) =
                runs.into_iter().map(|(s, n, f)| ((s, n), f)).unzip();
            let results = join_all(futures).await;
            let mut values = Vec::with_capacity(results.len());
            let mut failed = Vec::new();
            for ((shard, name), result) in ids.into_iter().zip(results) {
                match result {
                    Ok(v) => values.push(v),
                    Err(error) => failed.push(ShardFailure { shard, name, error }),
                }
            }
            Ok((values, failed))
        }
    }

    fn finish<T: Send>(value: T, failed: Vec<ShardFailure>) -> PartialResult<T> {
        PartialResult { value, failed }
    }
}

/// `fut`, failing with [`Error::ShardTimeout`] naming `shard` when `timeout` passes first.
pub(crate) async fn within<T>(
    timeout: Option<std::time::Duration>,
    shard: &str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match timeout {
        Some(after) => tokio::time::timeout(after, fut)
            .await
            .map_err(|_| Error::ShardTimeout {
                shard: shard.to_owned(),
                after,
            })?,
        None => fut.await,
    }
}
