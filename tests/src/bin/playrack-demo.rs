//! `playrack-demo`: the whole platform in one process (`scripts/up.sh` runs it).
//!
//! Starts the controller on SQLite under `--data-dir`, seeded with the demo operator and
//! tenant, a room of virtual boards (node agents with the process driver), the demo game built
//! from `tapper-v1.apk` (uploaded, published, deployed, READY), an order and a try-play link,
//! and the portal; prints the try-play URL, the consoles and the credentials; runs until
//! Ctrl-C (or SIGTERM), then stops every instance and adb server and exits.

use std::path::PathBuf;

use clap::Parser;
use playrack_tests::demo::{DEFAULT_SPEC, DemoOptions, DemoStack, sibling_binary, workspace};

/// Playrack in one process: controller, portal and a room of virtual boards, seeded with a
/// playable demo game.
#[derive(Debug, Parser)]
#[command(name = "playrack-demo", version, about)]
struct Args {
    /// Where the controller's database and package store and the boards' state live.
    #[arg(long, env = "PLAYRACK_DEMO_DATA_DIR", default_value = ".playrack")]
    data_dir: PathBuf,
    /// The controller's port on 127.0.0.1 (0: any free port).
    #[arg(long, env = "PLAYRACK_DEMO_CONTROLLER_PORT", default_value_t = 7600)]
    controller_port: u16,
    /// The portal's port on 127.0.0.1 (0: any free port).
    #[arg(long, env = "PLAYRACK_DEMO_PORTAL_PORT", default_value_t = 7680)]
    portal_port: u16,
    /// Virtual boards (node agents) in the room.
    #[arg(long, default_value_t = 2)]
    boards: u32,
    /// Android instances per board (all kept warm).
    #[arg(long, default_value_t = 2)]
    slots: u32,
    /// The boards' instance spec, `ID=WIDTHxHEIGHT@FPS`; the id must be a controller spec
    /// (`sd-30`, `hd-60`, `fhd-60`).
    #[arg(long, default_value = DEFAULT_SPEC)]
    spec: String,
    /// Concurrent plays the demo tenant's order allows (default: every slot of the room);
    /// fewer than the slots shows the queue.
    #[arg(long)]
    concurrency: Option<u32>,
    /// Trial length of the demo link, in seconds.
    #[arg(long, default_value_t = 600)]
    trial_seconds: u32,
    /// The `virtual-device` binary (default: next to this one).
    #[arg(long)]
    virtual_device: Option<PathBuf>,
    /// The H5 SDK's bundle directory.
    #[arg(long)]
    assets_dir: Option<PathBuf>,
    /// The demo game's APK (default: the `tapper-v1.apk` fixture, built if missing).
    #[arg(long)]
    apk: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "warn,sqlx=error".into());
    // The embedded boards' agents keep their last lines for the operator console too.
    use tracing_subscriber::prelude::*;
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(filter))
        .with(node_agent::logtail::layer())
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("playrack-demo: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut options = DemoOptions::new(args.data_dir);
    options.controller_port = args.controller_port;
    options.portal_port = args.portal_port;
    options.boards = args.boards;
    options.slots = args.slots;
    options.spec = args.spec;
    options.order_concurrency = args.concurrency;
    options.trial_seconds = args.trial_seconds;
    options.virtual_device = args
        .virtual_device
        .unwrap_or_else(|| sibling_binary("virtual-device"));
    options.sdk_dir = args
        .assets_dir
        .unwrap_or_else(|| workspace().join("sdk-h5/dist"));
    options.apk = match args.apk {
        Some(p) => p,
        None => playrack_test_support::fixtures::apk("tapper-v1"),
    };
    eprintln!(
        "playrack-demo: starting {} board(s) × {} slot(s) under {}…",
        options.boards,
        options.slots,
        options.data_dir.display()
    );
    let mut stack = DemoStack::start(options).await?;
    println!("{}", stack.banner());
    println!("Press Ctrl-C to stop.");
    wait_for_signal().await;
    eprintln!("playrack-demo: stopping (instances, adb servers, portal, controller)…");
    stack.stop().await;
    eprintln!("playrack-demo: stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
