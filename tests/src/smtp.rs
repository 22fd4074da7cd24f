//! A real SMTP server for the mail tests: aiosmtpd (PyPI, pinned; `cargo xtask test` installs
//! it into `~/.cache/concierge-smtp` and exports `CONCIERGE_TEST_SMTP_PYTHON`), printing each
//! message it receives. Stopped when dropped.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::WAIT;

pub struct SmtpSink {
    pub port: u16,
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl SmtpSink {
    /// Starts aiosmtpd on a free loopback port (the test is marked as needing it).
    pub async fn start() -> SmtpSink {
        let python = crate::needs::smtp_python();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(python)
            .args(["-u", "-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Debugging", "stdout"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("aiosmtpd starts");
        let stdout = child.stdout.take().expect("stdout");
        // Ready when it accepts connections.
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "aiosmtpd did not start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        SmtpSink {
            port,
            lines: BufReader::new(stdout).lines(),
            _child: child,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The next message received (headers and body), within [`WAIT`].
    pub async fn next_message(&mut self) -> String {
        let read = async {
            let mut message = String::new();
            let mut inside = false;
            while let Some(line) = self.lines.next_line().await.expect("aiosmtpd output") {
                if line.contains("MESSAGE FOLLOWS") {
                    inside = true;
                } else if line.contains("END MESSAGE") {
                    return message;
                } else if inside {
                    message.push_str(&line);
                    message.push('\n');
                }
            }
            panic!("aiosmtpd stopped");
        };
        tokio::time::timeout(WAIT, read)
            .await
            .expect("a message within the wait")
    }
}
