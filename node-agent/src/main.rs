//! `node-agent`: the board agent's binary. Reads the configuration (file < environment <
//! flags; `node-agent --help`), starts the agent and runs until SIGINT or SIGTERM, then removes
//! its instances and stops its adb server.

use clap::Parser;
use node_agent::agent::Agent;
use node_agent::config::{Args, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // JSON lines on stdout, and the agent's last lines in memory for the console.
    node_agent::logtail::init();
    let config = Config::load(Args::parse())?;
    tracing::info!(serial = %config.serial, controller = %config.controller_url, runtime = ?config.runtime, "node agent starting");
    let running = Agent::start(config).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted"),
        _ = term.recv() => tracing::info!("terminated"),
    }
    running.stop().await;
    Ok(())
}
