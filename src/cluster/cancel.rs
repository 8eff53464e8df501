//! Asking a server to stop a statement whose caller stopped waiting (a statement timeout).
//! PostgreSQL takes a cancel request on a connection of its own; the other backends have no
//! such request (the statement's connection is discarded, and the server finishes the
//! statement on its own).

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

    /// Sends the request; failures are only logged (the connection is discarded anyway).
    pub(crate) async fn cancel(self) {
        match self.0 {
            #[cfg(feature = "postgres")]
            Inner::Postgres(token) => {
                if let Err(error) = token.cancel_query(tokio_postgres::NoTls).await {
                    tracing::debug!(%error, "cancel request failed");
                }
            }
        }
    }
}
