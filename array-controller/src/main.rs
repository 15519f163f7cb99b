//! `array-controller`: parses the configuration, sets up logs and metrics, and serves until
//! SIGTERM or SIGINT — or runs one administration command (`admin …`, `--migrate-only`) and
//! exits.

use std::time::Duration;

use array_controller::admin::{self, PasswordSource};
use array_controller::config::{AdminCommand, Args, Command, Config, LogFormat};
use array_controller::db::Db;
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut args = Args::parse();
    let command = args.command.take();
    let migrate_only = args.migrate_only;
    let config = match Config::load(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("array-controller: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // A command's output is its answer; only warnings are logged beside it.
    let quiet = command.is_some() || migrate_only;
    init_tracing(config.log_format, quiet);
    let result = match command {
        Some(Command::Admin(AdminCommand::CreateOperator {
            email,
            password_stdin,
            password_file,
        })) => {
            let source = match (password_stdin, password_file) {
                (_, Some(file)) => PasswordSource::File(file),
                (true, None) => PasswordSource::Stdin,
                (false, None) => PasswordSource::Prompt,
            };
            create_operator(config, &email, &source).await
        }
        Some(Command::Backup { out }) => backup(config, &out).await,
        Some(Command::Restore { from, force }) => restore(config, &from, force).await,
        None if migrate_only => migrate(config).await,
        None => run(config).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("array-controller: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat, quiet: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        if quiet {
            "warn".into()
        } else {
            "info,sqlx=warn".into()
        }
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn open(config: &Config) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&config.data_dir)?;
    Ok(Db::connect(&config.database_url).await?)
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    open(&config).await?;
    println!("array-controller: the database schema is up to date");
    Ok(())
}

fn say(line: &str) {
    eprintln!("array-controller: {line}");
}

async fn backup(config: Config, out: &std::path::Path) -> anyhow::Result<()> {
    let m = array_controller::backup::backup(&config, out, &say).await?;
    println!(
        "array-controller: backup written to {} ({} database at schema {}, {} store files, {} MiB{})",
        out.display(),
        m.backend,
        m.schema_version,
        m.store_files,
        m.store_bytes >> 20,
        if m.secret_key {
            ", the secrets key: keep it safe"
        } else {
            ""
        }
    );
    Ok(())
}

async fn restore(config: Config, from: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let m = array_controller::backup::restore(&config, from, force, &say).await?;
    println!(
        "array-controller: restored the {} database and {} store files from {}",
        m.backend,
        m.store_files,
        from.display()
    );
    Ok(())
}

async fn create_operator(
    config: Config,
    email: &str,
    source: &PasswordSource,
) -> anyhow::Result<()> {
    let password = admin::read_password(source)?;
    let db = open(&config).await?;
    let id = admin::create_operator(&db, email, &password).await?;
    println!(
        "array-controller: operator {} created ({id}); sign in with it",
        email.trim().to_lowercase()
    );
    Ok(())
}

async fn run(config: Config) -> anyhow::Result<()> {
    let demo = config.demo;
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let state = array_controller::build_state(config).await?;
    let running = array_controller::serve(state.clone()).await?;
    let url = running.url();
    tracing::info!(%url, "array-controller listening");
    println!("Controller: {url}  (API under {url}/v1, OpenAPI at {url}/v1/openapi.json)");
    if demo {
        let creds = array_controller::seed::demo(&state).await?;
        println!("{creds}");
    }
    let signal = stop_signal().await?;
    tracing::info!(signal, ?grace, "stopping: finishing in-flight requests");
    if tokio::time::timeout(grace, running.stop()).await.is_err() {
        tracing::warn!(
            ?grace,
            "requests were still running at the end of the grace period"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits for SIGTERM (`docker stop`, systemd, Kubernetes) or SIGINT (Ctrl-C); says which.
async fn stop_signal() -> std::io::Result<&'static str> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.map(|()| "SIGINT"),
        _ = term.recv() => Ok("SIGTERM"),
    }
}
