//! A TCP proxy between grant and a real server that injects network faults: pass traffic,
//! delay it, blackhole it (connections are accepted and requests read, but nothing is ever
//! answered: a half-dead host), refuse new connections, and cut every open connection (a
//! server restart or a network cut, as the pool's idle connections see it).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    None,
    /// Forward everything after this delay per chunk.
    Delay(Duration),
    /// Accept and read, never answer.
    Blackhole,
    /// Close new connections at once.
    Refuse,
}

struct State {
    fault: Mutex<Fault>,
    /// Bumped by [`FaultProxy::cut`]: connections of an older generation close.
    generation: AtomicU64,
}

/// A running proxy; it stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy on a free local port in front of `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            fault: Mutex::new(Fault::None),
            generation: AtomicU64::new(0),
        });
        let upstream = upstream.to_owned();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let state = shared.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move { serve(client, &upstream, state).await });
            }
        });
        FaultProxy { addr, state, task }
    }

    /// `scheme://user@host:port/db` of `url` with the proxy's address in place of the server's.
    /// A MySQL URL gets `prefer_socket=false`: mysql_async otherwise moves a connection to
    /// 127.0.0.1 onto the server's Unix socket, bypassing the proxy.
    /// A proxy in front of the server of `url` (`scheme://[user@]host:port/..`).
    pub async fn in_front_of(url: &str) -> FaultProxy {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or(rest);
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        FaultProxy::start(host_port).await
    }

    pub fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let user = authority
            .rsplit_once('@')
            .map(|(u, _)| format!("{u}@"))
            .unwrap_or_default();
        let via_proxy = format!("{scheme}://{user}{}/{path}", self.addr);
        if scheme == "mysql" {
            let join = if path.contains('?') { '&' } else { '?' };
            format!("{via_proxy}{join}prefer_socket=false")
        } else {
            via_proxy
        }
    }

    /// Sets the fault for traffic from now on.
    pub fn set(&self, fault: Fault) {
        *self.state.fault.lock().unwrap() = fault;
    }

    /// Closes every open connection (new ones are served as the fault says).
    pub fn cut(&self) {
        self.state.generation.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

fn fault(state: &State) -> Fault {
    *state.fault.lock().unwrap()
}

async fn serve(mut client: TcpStream, upstream: &str, state: Arc<State>) {
    if fault(&state) == Fault::Refuse {
        return;
    }
    let born = state.generation.load(Ordering::SeqCst);
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    let mut to_server = [0u8; 16 * 1024];
    let mut to_client = [0u8; 16 * 1024];
    let alive = || state.generation.load(Ordering::SeqCst) == born;
    loop {
        tokio::select! {
            read = client_read.read(&mut to_server) => {
                let Ok(n @ 1..) = read else { return };
                match fault(&state) {
                    // Requests are swallowed: the server never sees them, nothing answers.
                    Fault::Blackhole => continue,
                    Fault::Delay(d) => tokio::time::sleep(d).await,
                    Fault::None | Fault::Refuse => {}
                }
                if !alive() || server_write.write_all(&to_server[..n]).await.is_err() {
                    return;
                }
            }
            read = server_read.read(&mut to_client) => {
                let Ok(n @ 1..) = read else { return };
                if fault(&state) == Fault::Blackhole {
                    continue;
                }
                if !alive() || client_write.write_all(&to_client[..n]).await.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                if !alive() {
                    return;
                }
            }
        }
    }
}
