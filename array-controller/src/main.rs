//! `array-controller`: parses the configuration, sets up logs and metrics, and serves.

use array_controller::config::{Args, Config, LogFormat};
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = match Config::load(Args::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("array-controller: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    init_tracing(config.log_format);
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("array-controller: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let demo = config.demo;
    let state = array_controller::build_state(config).await?;
    let running = array_controller::serve(state.clone()).await?;
    let url = running.url();
    tracing::info!(%url, "array-controller listening");
    println!("Controller: {url}  (API under {url}/v1, OpenAPI at {url}/v1/openapi.json)");
    if demo {
        let creds = array_controller::seed::demo(&state).await?;
        println!("{creds}");
    }
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down: finishing in-flight requests");
    running.stop().await;
    Ok(())
}
