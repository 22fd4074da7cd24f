//! `concierge`: telemetry → config → command. Nothing else lives here.

use clap::Parser;
use concierge::cli::{self, Cli};
use concierge::config::Config;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: invalid configuration: {e}");
            std::process::exit(2);
        }
    };
    concierge::telemetry::init(&config.log, config.log_format);
    let code = cli::run(cli, config).await;
    std::process::exit(code);
}
