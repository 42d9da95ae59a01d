//! A private RabbitMQ node for one test: its own node name, ports (AMQP, Erlang
//! distribution, epmd) and data and log folders under a temporary folder, no plugins,
//! on 127.0.0.1. It is stopped (node and epmd) when dropped, also when the test
//! fails. A missing or broken `rabbitmq-server` fails the test: it is never skipped.

#![allow(dead_code)] // each test file uses its own part

pub mod fleet;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's package puts the real scripts (`/usr/sbin` only wraps them in `su`).
const DEFAULT_SBIN: &str = "/usr/lib/rabbitmq/bin";
/// How long a node may take to boot on a loaded machine.
const BOOT_WITHIN: Duration = Duration::from_secs(180);

pub struct Rabbit {
    dir: PathBuf,
    sbin: PathBuf,
    node: String,
    pub port: u16,
    dist_port: u16,
    epmd_port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl Rabbit {
    pub fn start(name: &str) -> Rabbit {
        let sbin = std::env::var_os("TMBRIDGE_RABBITMQ_SBIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SBIN));
        assert!(
            sbin.join("rabbitmq-server").is_file(),
            "rabbitmq-server is not installed in {} (set TMBRIDGE_RABBITMQ_SBIN): scripts/test.sh installs Debian's rabbitmq-server; by hand: apt-get install -y --no-install-recommends rabbitmq-server",
            sbin.display()
        );
        let dir =
            std::env::temp_dir().join(format!("tmbridge-rabbit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["data", "log", "home"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(dir.join("enabled_plugins"), "[].\n").unwrap();
        let mut rabbit = Rabbit {
            node: format!("tmbridge-{}-{name}@localhost", std::process::id()),
            port: free_port(),
            dist_port: free_port(),
            epmd_port: free_port(),
            dir,
            sbin,
            child: None,
        };
        rabbit.boot();
        rabbit
    }

    /// `amqp://127.0.0.1:PORT` (the default guest user works from loopback).
    pub fn url(&self) -> String {
        format!("amqp://127.0.0.1:{}", self.port)
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(self.sbin.join(program));
        let d = &self.dir;
        c.current_dir(d)
            .env("HOME", d.join("home"))
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_MNESIA_BASE", d.join("data"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            // Nothing from the machine's own configuration.
            .env("RABBITMQ_CONFIG_FILE", d.join("none"))
            .env(
                "RABBITMQ_ADVANCED_CONFIG_FILE",
                d.join("none-advanced.config"),
            )
            .env("RABBITMQ_CONF_ENV_FILE", d.join("none-env"))
            .env(
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-kernel inet_dist_use_interface {127,0,0,1}",
            );
        c
    }

    fn boot(&mut self) {
        let log = std::fs::File::create(self.dir.join("server.out")).unwrap();
        let child = self
            .command("rabbitmq-server")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .process_group(0)
            .spawn()
            .expect("start rabbitmq-server");
        self.child = Some(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let start = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "rabbitmq-server exited ({status}) before listening:\n{}",
                    self.server_output()
                );
            }
            assert!(
                start.elapsed() < BOOT_WITHIN,
                "rabbitmq-server did not listen on {addr} within {BOOT_WITHIN:?}:\n{}",
                self.server_output()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn server_output(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("server.out")).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Runs `rabbitmqctl ARGS` against this node.
    pub fn ctl(&self, args: &[&str]) -> Output {
        self.command("rabbitmqctl")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run rabbitmqctl")
    }

    /// Closes every client connection, as a broker failover or a network cut would.
    pub fn close_all_connections(&self) {
        let out = self.ctl(&["close_all_connections", "tmbridge test: connection cut"]);
        assert!(
            out.status.success(),
            "rabbitmqctl close_all_connections: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the node (its data stays for a restart).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = self.ctl(&["stop"]);
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        kill_group(&mut child);
    }

    /// Stops the node and starts it again on the same ports and data.
    pub fn restart(&mut self) {
        self.stop();
        self.boot();
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The server script's process group: beam and its helpers, whatever is left.
fn kill_group(child: &mut Child) {
    let pid = child.id() as i32;
    // SAFETY: kill(2) with a negative pid signals the process group we created.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Rabbit {
    fn drop(&mut self) {
        self.stop();
        // epmd daemonizes out of the process group: ask it to go.
        let _ = Command::new("epmd")
            .args(["-port", &self.epmd_port.to_string(), "-kill"])
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
