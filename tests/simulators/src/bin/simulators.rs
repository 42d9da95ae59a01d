//! Runs the simulators for manual tries:
//!
//! ```text
//! tmbridge-simulators [--rally 127.0.0.1:8081] [--gitlab 127.0.0.1:8082] [--gitlab-token TOKEN]
//! ```
//!
//! It prints the URLs and credentials, then serves until it is killed. Faults can be
//! armed with `curl -X POST 'http://127.0.0.1:8081/__sim/faults?kind=server_error&count=3'`.

use std::process::ExitCode;
use tmbridge_simulators::gitlab::GitlabSim;
use tmbridge_simulators::rally::RallySim;

fn main() -> ExitCode {
    let mut rally_addr = "127.0.0.1:0".to_string();
    let mut gitlab_addr = "127.0.0.1:0".to_string();
    let mut token = "glpat-simulated-token".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next();
        match (a.as_str(), value) {
            ("--rally", Some(v)) => rally_addr = v,
            ("--gitlab", Some(v)) => gitlab_addr = v,
            ("--gitlab-token", Some(v)) => token = v,
            _ => {
                eprintln!(
                    "usage: tmbridge-simulators [--rally ADDR] [--gitlab ADDR] [--gitlab-token TOKEN]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let rally = match RallySim::bind(&rally_addr) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the Rally simulator on {rally_addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let gitlab = match GitlabSim::bind(&gitlab_addr, &token) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("cannot start the GitLab simulator on {gitlab_addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let s = rally.seeded();
    println!("rally.url = {}", rally.url());
    println!("rally api key (ZSESSIONID) = {}", s.api_key);
    println!("rally user / password = {} / {}", s.username, s.password);
    println!("rally.workspace = {}", s.workspace);
    println!("rally.project = {}", s.project);
    println!("current iteration = {}", s.current_iteration);
    println!("gitlab url = {}  (PRIVATE-TOKEN {token})", gitlab.url());
    println!(
        "gitlab project = {} ({})",
        gitlab.project_id(),
        gitlab.project_path()
    );
    loop {
        std::thread::park();
    }
}
