//! Asking a server to stop a statement whose caller stopped waiting (a statement timeout).
//! PostgreSQL takes a cancel request on a connection of its own; the other backends have no
//! such request (the statement's connection is discarded, and the server finishes the
//! statement on its own).

/// How long a cancel request may wait for the server.
#[cfg(feature = "postgres")]
const CANCEL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Cancels the statement running on one connection.
pub struct CancelHandle(Inner);

impl std::fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CancelHandle(..)")
    }
}

enum Inner {
    #[cfg(feature = "postgres")]
    Postgres(tokio_postgres::CancelToken),
}

impl CancelHandle {
    /// A PostgreSQL cancel request for the connection this token came from.
    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(token: tokio_postgres::CancelToken) -> Self {
        CancelHandle(Inner::Postgres(token))
    }

    /// Sends the request, giving up after [`CANCEL_WAIT`] (a host that never answered the
    /// statement may not answer this either); failures are only logged (the connection is
    /// discarded anyway).
    pub(crate) async fn cancel(self) {
        match self.0 {
            #[cfg(feature = "postgres")]
            Inner::Postgres(token) => {
                let request = token.cancel_query(tokio_postgres::NoTls);
                match tokio::time::timeout(CANCEL_WAIT, request).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => tracing::debug!(%error, "cancel request failed"),
                    Err(_) => tracing::debug!("cancel request unanswered"),
                }
            }
        }
    }
}
