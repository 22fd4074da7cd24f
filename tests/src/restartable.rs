//! A test server that can be stopped and started again on the same address and data
//! directory, as a deploy restarts a node: browsers and other clients that only know the URL
//! have to reconnect to it by themselves.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::Mutex;

use crate::{spawn_with, temp_dir, Options, TempDir, TestApp};

pub struct Restartable {
    /// What every start uses; `listen` is pinned to the first start's address.
    opts: Options,
    pub addr: SocketAddr,
    /// The running server, `None` while stopped.
    app: Mutex<Option<TestApp>>,
    /// Owns the data directory, so it outlives each server.
    _dir: TempDir,
}

impl Restartable {
    /// Starts the first server on `opts.listen` (port 0 works) in a new data directory.
    pub async fn start(mut opts: Options) -> Result<Restartable> {
        let dir = temp_dir();
        opts.data_dir = Some(dir.path().to_path_buf());
        let app = spawn_with(opts.clone()).await?;
        opts.listen = app.addr.to_string();
        Ok(Restartable {
            opts,
            addr: app.addr,
            app: Mutex::new(Some(app)),
            _dir: dir,
        })
    }

    /// Runs `f` on the running server (panics when stopped).
    pub async fn with_app<R>(&self, f: impl AsyncFnOnce(&mut TestApp) -> R) -> R {
        let mut guard = self.app.lock().await;
        let app = guard.as_mut().expect("the server is running");
        f(app).await
    }

    /// Shuts the server down as SIGTERM would (sockets close with 1012) and waits until it
    /// has let go of its port. Stopping a stopped server does nothing.
    pub async fn stop(&self) {
        if let Some(app) = self.app.lock().await.take() {
            app.shutdown().await;
        }
    }

    /// Starts a stopped server again on the same address and data directory. The old
    /// server's socket and index lock may linger for a moment, so starting is retried for a
    /// few seconds.
    pub async fn start_again(&self) -> Result<()> {
        let mut guard = self.app.lock().await;
        if guard.is_some() {
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match spawn_with(self.opts.clone()).await {
                Ok(app) => {
                    *guard = Some(app);
                    return Ok(());
                }
                Err(e) if Instant::now() < deadline => {
                    note_retry(&e);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("restarting on {}", self.addr));
                }
            }
        }
    }

    /// Stop then start.
    pub async fn restart(&self) -> Result<()> {
        self.stop().await;
        self.start_again().await
    }
}

/// Shown with TEST_LOG only, like the servers' own logs.
fn note_retry(e: &anyhow::Error) {
    if std::env::var_os("TEST_LOG").is_some() {
        eprintln!("restart attempt failed, retrying: {e:#}");
    }
}
