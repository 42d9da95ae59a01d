//! One module per subcommand. Each exposes `Args` (clap) and `run(Args) -> anyhow::Result<ExitCode>`.

pub mod autofill;
pub mod bridge;
pub mod connect;
pub mod connect_each;
pub mod defect;
mod defect_form;
mod defect_qtest;
pub mod link;
pub mod map;
pub mod parse;
pub mod publish;
pub mod qtest_connect;
pub mod query;
pub mod queue;
pub mod rally_session;
pub mod requirements;
pub mod serve;
pub mod testrail;
pub mod worker;

/// Exit codes shared by every subcommand.
pub const EXIT_OK: u8 = 0;
/// The input was read, but something in it failed (a bad report, a refused query).
pub const EXIT_FAILED: u8 = 1;
/// The command line or a config file is wrong.
pub const EXIT_USAGE: u8 = 2;
