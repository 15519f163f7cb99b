//! `virtual-device`: one virtual Android instance, reachable with adb over TCP.
//!
//! Started by tests and by the node agent's Docker driver exactly like redroid: the display
//! can come from flags or from redroid's boot arguments (`androidboot.redroid_width=720`, …)
//! given as trailing arguments. Prints `virtual-device listening on ADDR:PORT` once the adb
//! port is open (with `--adb-port 0` the port is chosen by the OS), then serves until killed.
//! `app_process` (the scrcpy server) and the synthetic game are installed on the device.
//!
//! In a container started like redroid (`docker run IMAGE androidboot.redroid_width=720 …`),
//! the image sets `VIRTUAL_DEVICE_LISTEN=0.0.0.0` and `VIRTUAL_DEVICE_DATA_DIR=/data` so only
//! the boot arguments are given on the command line.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use android_injector::device::{self, AuthConfig, Device, DeviceConfig, Identity};
use anyhow::{Context, bail};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "virtual-device",
    about = "A virtual Android device that speaks adb over TCP"
)]
struct Args {
    /// TCP port of adbd (redroid's is 5555); 0 picks a free port.
    #[arg(long, env = "VIRTUAL_DEVICE_ADB_PORT", default_value_t = 5555)]
    adb_port: u16,
    /// Address to listen on (0.0.0.0 inside a container).
    #[arg(long, env = "VIRTUAL_DEVICE_LISTEN", default_value = "127.0.0.1")]
    listen: IpAddr,
    /// The per-device data directory (holds /data, /sdcard, the package database).
    #[arg(
        long,
        env = "VIRTUAL_DEVICE_DATA_DIR",
        default_value = "/var/lib/virtual-device"
    )]
    data_dir: PathBuf,
    /// Milliseconds from start until `sys.boot_completed` becomes 1.
    #[arg(long, env = "VIRTUAL_DEVICE_BOOT_DELAY_MS", default_value_t = 0)]
    boot_delay_ms: u64,
    /// Only accept adb keys listed in this file (adb's `adb_keys` format).
    #[arg(long, env = "VIRTUAL_DEVICE_ADB_KEYS", conflicts_with = "no_auth")]
    adb_keys: Option<PathBuf>,
    /// Skip adb authentication entirely (`ro.adb.secure=0`).
    #[arg(long)]
    no_auth: bool,
    #[arg(long, default_value_t = 720)]
    width: u32,
    #[arg(long, default_value_t = 1280)]
    height: u32,
    #[arg(long, default_value_t = 60)]
    fps: u32,
    #[arg(long, default_value_t = 320)]
    dpi: u32,
    /// `ro.serialno`.
    #[arg(long, default_value = "playrack0001")]
    serial: String,
    /// `ro.product.model`.
    #[arg(long, default_value = "Playrack Virtual Device")]
    model: String,
    /// Storage quota for everything written to the device, in MiB.
    #[arg(long, env = "PLAYRACK_STORAGE_QUOTA_MB", default_value_t = device::DEFAULT_STORAGE_QUOTA >> 20)]
    storage_quota_mb: u64,
    /// Start as a board without the hardware H.264 encoder (only Android's software one is
    /// listed and usable).
    #[arg(long, env = "PLAYRACK_NO_HW_ENCODER")]
    no_hw_encoder: bool,
    /// Start as a ROM without Android's software H.264 encoder (with `--no-hw-encoder`: a
    /// board that can encode no video at all).
    #[arg(long, env = "PLAYRACK_NO_SW_ENCODER")]
    no_sw_encoder: bool,
    /// redroid boot arguments: androidboot.redroid_width=…, _height, _fps, _dpi (others ignored).
    #[arg(trailing_var_arg = true)]
    boot_args: Vec<String>,
}

/// Applies redroid's `androidboot.redroid_*` arguments on top of the flags.
fn apply_boot_args(args: &mut Args) -> anyhow::Result<()> {
    for arg in args.boot_args.clone() {
        let Some((key, value)) = arg.split_once('=') else {
            bail!("unexpected argument {arg:?} (boot arguments look like androidboot.KEY=VALUE)");
        };
        let Some(key) = key.strip_prefix("androidboot.") else {
            bail!("unexpected argument {arg:?} (boot arguments look like androidboot.KEY=VALUE)");
        };
        let number = || {
            value
                .parse::<u32>()
                .with_context(|| format!("{arg}: not a number"))
        };
        match key {
            "redroid_width" => args.width = number()?,
            "redroid_height" => args.height = number()?,
            "redroid_fps" => args.fps = number()?,
            "redroid_dpi" => args.dpi = number()?,
            _ => tracing::debug!(%arg, "ignoring boot argument"),
        }
    }
    if args.width == 0 || args.height == 0 || args.fps == 0 || args.dpi == 0 {
        bail!(
            "display {}x{} at {} fps, {} dpi is not valid",
            args.width,
            args.height,
            args.fps,
            args.dpi
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut args = Args::parse();
    apply_boot_args(&mut args)?;
    let auth = match (&args.adb_keys, args.no_auth) {
        (Some(path), _) => AuthConfig::KeysFile(path.clone()),
        (None, true) => AuthConfig::Disabled,
        (None, false) => AuthConfig::AcceptAny,
    };
    let config = DeviceConfig {
        data_dir: args.data_dir.clone(),
        identity: Identity {
            serial: args.serial.clone(),
            model: args.model.clone(),
            product: "playrack_arm64".into(),
            width: args.width,
            height: args.height,
            dpi: args.dpi,
            fps: args.fps,
        },
        boot_delay: Duration::from_millis(args.boot_delay_ms),
        storage_quota: args.storage_quota_mb.saturating_mul(1 << 20),
        auth,
    };
    let device = Device::open(config)
        .with_context(|| format!("opening data dir {}", args.data_dir.display()))?;
    // The scrcpy-compatible server (`app_process … com.genymobile.scrcpy.Server`) and the
    // synthetic game, started by `am start` / `monkey`.
    let _screen = android_injector::scrcpy::app_process::install(&device);
    for (property, missing) in [
        (
            playrack_scrcpy::encoders::HW_ENCODER_PROPERTY,
            args.no_hw_encoder,
        ),
        (
            playrack_scrcpy::encoders::SW_ENCODER_PROPERTY,
            args.no_sw_encoder,
        ),
    ] {
        let value = if missing { "0" } else { "1" };
        device
            .props
            .set(property, value)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.listen, args.adb_port))
        .await
        .with_context(|| format!("binding {}:{}", args.listen, args.adb_port))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, serial = %args.serial, width = args.width, height = args.height, fps = args.fps, dpi = args.dpi, "virtual device up");
    let mut stdout = std::io::stdout();
    writeln!(stdout, "virtual-device listening on {addr}")?;
    stdout.flush()?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = device::adbd::serve(device, listener) => r.context("adb listener failed")?,
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted"),
        _ = term.recv() => tracing::info!("terminated"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redroid_boot_args_set_the_display() {
        let mut a = Args::parse_from([
            "virtual-device",
            "--width",
            "1080",
            "androidboot.redroid_width=720",
            "androidboot.redroid_height=1280",
            "androidboot.redroid_fps=30",
            "androidboot.redroid_dpi=240",
            "androidboot.use_memfd=1",
        ]);
        apply_boot_args(&mut a).unwrap();
        assert_eq!((a.width, a.height, a.fps, a.dpi), (720, 1280, 30, 240));
        let mut bad = Args::parse_from(["virtual-device", "androidboot.redroid_width=wide"]);
        assert!(apply_boot_args(&mut bad).is_err());
        let mut bad = Args::parse_from(["virtual-device", "--", "frob"]);
        assert!(apply_boot_args(&mut bad).is_err());
    }
}
