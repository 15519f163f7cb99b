//! `node-agent`: the board agent's binary. Reads the configuration (file < environment <
//! flags; `node-agent --help`), starts the agent and runs until SIGINT or SIGTERM, then removes
//! its instances and stops its adb server. `node-agent doctor` checks the board instead.

use clap::Parser;
use node_agent::agent::Agent;
use node_agent::config::{Args, Command, Config};
use node_agent::doctor::{self, DoctorOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if let Some(Command::Doctor {
        json,
        boot_timeout_secs,
    }) = args.command.take()
    {
        return doctor(Config::load(args)?, json, boot_timeout_secs).await;
    }
    // JSON lines on stdout, and the agent's last lines in memory for the console.
    node_agent::logtail::init();
    let config = Config::load(args)?;
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

/// `node-agent doctor`: the report on stdout (text or JSON), warnings of its own on stderr.
async fn doctor(config: Config, json: bool, boot_timeout_secs: u64) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let opts = DoctorOptions {
        boot_timeout: std::time::Duration::from_secs(boot_timeout_secs.max(1)),
        ..DoctorOptions::default()
    };
    if !json {
        println!(
            "node-agent doctor: board {} ({})",
            config.serial,
            match config.runtime {
                node_agent::config::RuntimeKind::Docker =>
                    format!("docker runtime, image {}", config.docker_image),
                node_agent::config::RuntimeKind::Process => "process runtime".to_owned(),
            }
        );
    }
    let report = doctor::run(&config, &opts).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    std::process::exit(if report.passed() { 0 } else { 1 });
}
