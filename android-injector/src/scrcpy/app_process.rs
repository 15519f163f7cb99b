//! Plugs the scrcpy server and the synthetic game into the virtual device: the `app_process`
//! shell command, and the device hooks that put an app's game on the display.
//!
//! - `app_process / com.genymobile.scrcpy.Server 4.1 key=value…` (with `CLASSPATH` pointing at
//!   the pushed jar) starts [`super::server::run`] on the abstract socket `scrcpy_%08x`: it
//!   listens there in forward-tunnel mode, or connects to it (adb reverse) otherwise, and exits
//!   0 when the client is gone. A version mismatch or a bad option prints the server's error,
//!   `[server] ERROR: The server version (4.1) does not match the client (…)`, on stderr and
//!   exits 1, as scrcpy's server does. Any other class is not something this device can run.
//! - [`GameHooks`]: `am start`/`monkey` start the package's game, with its tap counter in
//!   `/data/data/<pkg>/files/taps`; `am force-stop`, `am crash` and HOME go back to the
//!   launcher; `input tap`, `swipe`, `keyevent` and `text` reach the game like injected events.
//!   `setprop debug.playrack.game.hang 1` makes the game's main thread stuck: input stays
//!   undispatched and, past Android's 5-s input dispatching timeout, the system reports the app
//!   not responding (`dumpsys window`). `setprop debug.playrack.video.stall 1` stops the video
//!   stream's frames (a wedged encoder or display pipeline) until it is set back to `0`.
//!   `setprop debug.playrack.video.slice_delay_ms N` makes each slice of a sliced frame take
//!   N ms longer to encode (a slow encoder; at most 1000).

use std::sync::Arc;

use super::server::{self, DeviceScreen, SharedScreen, Tunnel};
use crate::device::packages::InstalledPackage;
use crate::device::shell::Context;
use crate::device::sockets::{AbstractListener, AbstractSockets};
use crate::device::{Device, DeviceHooks, InputEvent};
use crate::game::{Game, GameConfig, TapStore};
use playrack_scrcpy::control_msg::{
    AKEY_EVENT_ACTION_DOWN, AKEY_EVENT_ACTION_UP, AMOTION_EVENT_ACTION_DOWN,
    AMOTION_EVENT_ACTION_MOVE, AMOTION_EVENT_ACTION_UP, POINTER_ID_GENERIC_FINGER,
};
use playrack_scrcpy::encoders;
use playrack_scrcpy::options::{LogLevel, OptionsError, parse_app_process_args};

/// What the display shows when no app is in the foreground.
pub const LAUNCHER_PACKAGE: &str = "com.android.launcher3";

impl Tunnel for AbstractListener {
    type Stream = tokio::io::DuplexStream;
    async fn open(&mut self) -> std::io::Result<Self::Stream> {
        self.accept().await
    }
}

/// Reverse tunnel inside the device: connect to the abstract name adb reverse listens on.
pub struct AbstractConnector {
    pub sockets: AbstractSockets,
    pub name: String,
}

impl Tunnel for AbstractConnector {
    type Stream = tokio::io::DuplexStream;
    async fn open(&mut self) -> std::io::Result<Self::Stream> {
        self.sockets.connect(&self.name)
    }
}

/// The game for `package` at the device's current display size, its tap counter loaded from
/// the app's files directory.
fn game_for(device: &Device, package: &str) -> (Game, Option<TapStore>) {
    let display = device.display();
    let (width, height) = display.effective_size();
    let config = GameConfig {
        package: package.to_string(),
        width,
        height,
        fps: display.fps,
    };
    let files = format!("/data/data/{package}/files");
    let store = match device.fs.writable_path("/", &files) {
        Ok((_, host)) => Some(TapStore::new(&host)),
        Err(e) => {
            tracing::warn!("{files}: {e}; the tap counter will not be saved");
            None
        }
    };
    let taps = store
        .as_ref()
        .map(|s| {
            s.load().unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; counting from 0", s.path().display());
                0
            })
        })
        .unwrap_or(0);
    (Game::new(config, taps), store)
}

/// Device hooks that drive the game on the shared screen.
pub struct GameHooks {
    pub screen: SharedScreen,
}

/// The property that makes the foreground game's main thread stuck (`1`) or free (`0`): the
/// test switch for "Application Not Responding".
pub const HANG_PROPERTY: &str = "debug.playrack.game.hang";
/// The property that stops (`1`) or restarts (`0`) the frames of the video stream: the test
/// switch for a frozen picture.
pub const STALL_PROPERTY: &str = "debug.playrack.video.stall";
/// The property that makes each slice of a sliced frame (`playrack_slices`) take this many
/// more milliseconds to encode: the test switch for a slow encoder.
pub const SLICE_DELAY_PROPERTY: &str = "debug.playrack.video.slice_delay_ms";

impl DeviceHooks for GameHooks {
    fn property_set(&self, _device: &Device, name: &str, value: &str) {
        if name == HANG_PROPERTY {
            self.screen.lock().unwrap().set_hung(value == "1");
        }
        if name == STALL_PROPERTY {
            self.screen.lock().unwrap().set_video_stalled(value == "1");
        }
        if name == SLICE_DELAY_PROPERTY {
            let ms = value.parse::<u64>().unwrap_or(0).min(1000);
            self.screen
                .lock()
                .unwrap()
                .set_slice_delay(std::time::Duration::from_millis(ms));
        }
    }

    fn not_responding(&self, _device: &Device) -> bool {
        self.screen.lock().unwrap().not_responding()
    }

    fn display_resized(&self, _device: &Device, width: u32, height: u32) {
        self.screen.lock().unwrap().game_mut().resize(width, height);
    }

    fn app_started(&self, device: &Device, app: &InstalledPackage, _activity: &str) {
        let (game, store) = game_for(device, &app.package);
        self.screen.lock().unwrap().replace_game(game, store);
    }

    fn app_stopped(&self, device: &Device, package: &str) {
        let mut screen = self.screen.lock().unwrap();
        if screen.game().config().package == package {
            let (game, _) = game_for(device, LAUNCHER_PACKAGE);
            screen.replace_game(game, None);
        }
    }

    fn input(&self, _device: &Device, event: &InputEvent) {
        let mut screen = self.screen.lock().unwrap();
        if !screen.dispatch_input() {
            return;
        }
        let now = screen.now_us();
        let id = POINTER_ID_GENERIC_FINGER;
        let game = screen.game_mut();
        match event {
            InputEvent::Tap { x, y } => {
                game.touch(AMOTION_EVENT_ACTION_DOWN, id, *x as i32, *y as i32, now);
                game.touch(AMOTION_EVENT_ACTION_UP, id, *x as i32, *y as i32, now);
            }
            InputEvent::Swipe { x1, y1, x2, y2, .. } => {
                game.touch(AMOTION_EVENT_ACTION_DOWN, id, *x1 as i32, *y1 as i32, now);
                for i in 1..=10 {
                    let t = i as f32 / 10.0;
                    let (x, y) = (x1 + (x2 - x1) * t, y1 + (y2 - y1) * t);
                    game.touch(AMOTION_EVENT_ACTION_MOVE, id, x as i32, y as i32, now);
                }
                game.touch(AMOTION_EVENT_ACTION_UP, id, *x2 as i32, *y2 as i32, now);
            }
            InputEvent::Key { code, .. } => {
                game.key(AKEY_EVENT_ACTION_DOWN, *code as i32, now);
                game.key(AKEY_EVENT_ACTION_UP, *code as i32, now);
            }
            InputEvent::Text(t) => game.text(t, now),
        }
        screen.persist();
    }
}

/// Puts the launcher on the display, installs [`GameHooks`] and registers `app_process`.
/// Returns the screen the scrcpy servers capture. Call it once, right after `Device::open`
/// (the `virtual-device` binary's job).
pub fn install(device: &Arc<Device>) -> SharedScreen {
    let (game, store) = game_for(device, LAUNCHER_PACKAGE);
    let screen = DeviceScreen::new(game, store).shared();
    device.set_hooks(Arc::new(GameHooks {
        screen: screen.clone(),
    }));
    let for_command = screen.clone();
    device.register_command("app_process", move |ctx: Context| {
        let screen = for_command.clone();
        app_process(ctx, screen)
    });
    screen
}

/// `app_process [vm-options] cmd-dir class [args]`: only scrcpy's server class is runnable.
async fn app_process(mut ctx: Context, screen: SharedScreen) -> i32 {
    let classpath = ctx.env.get("CLASSPATH").cloned();
    let launch = match parse_app_process_args(ctx.args(), classpath.as_deref()) {
        Ok(l) => l,
        Err(OptionsError::NotAServerLaunch(_)) => {
            let class = ctx.args().get(1).cloned().unwrap_or_default();
            ctx.err(format!(
                "Error: Could not find class '{class}'\n\
                 java.lang.ClassNotFoundException: {class}\n"
            ))
            .await;
            return 1;
        }
        Err(e) => {
            // Server.main: Ln.e(message) then System.exit(1)
            ctx.err(format!("[server] ERROR: {e}\n")).await;
            return 1;
        }
    };
    // the class is loaded from CLASSPATH: the jar has to be there
    let jar = launch.classpath.clone().unwrap_or_default();
    if jar.is_empty() || ctx.device.fs.stat(&ctx.cwd, &jar).is_err() {
        let class = playrack_scrcpy::options::SERVER_CLASS;
        ctx.err(format!(
            "Error: Could not find class '{class}'\n\
             java.lang.ClassNotFoundException: Didn't find class \"{class}\" on path: DexPathList[[zip file \"{jar}\"]]\n"
        ))
        .await;
        return 1;
    }
    let options = launch.options;
    let device = ctx.device.clone();
    let has_hw = device.props.get(encoders::HW_ENCODER_PROPERTY).as_deref() != Some("0");
    let has_sw = device.props.get(encoders::SW_ENCODER_PROPERTY).as_deref() != Some("0");
    let video_encoders = encoders::video_encoders(has_hw, has_sw);
    let model = device.config().identity.model.clone();
    if options.list_encoders
        || options.list_displays
        || options.list_cameras
        || options.list_camera_sizes
        || options.list_apps
    {
        // Server.main: log what was asked for (Ln.i: at log level info or below) and do not
        // mirror: no socket is opened.
        let mut out = String::new();
        let mut info = |m: &str| {
            if matches!(
                options.log_level,
                LogLevel::Verbose | LogLevel::Debug | LogLevel::Info
            ) {
                out += &format!("[server] INFO: {m}\n");
            }
        };
        let release = device
            .props
            .get("ro.build.version.release")
            .unwrap_or_default();
        info(&format!(
            "Device: [Playrack] Playrack {model} (Android {release})"
        ));
        if options.list_encoders {
            info(&encoders::list_message("video", &video_encoders));
            info(&encoders::list_message(
                "audio",
                &encoders::audio_encoders(),
            ));
        }
        if options.list_displays {
            let (w, h) = device.display().effective_size();
            info(&format!(
                "List of displays:\n    --display-id=0    ({w}x{h})"
            ));
        }
        if options.list_cameras || options.list_camera_sizes {
            info("List of cameras:\n    (none)");
        }
        if options.list_apps {
            info("Processing Android apps... (this may take some time)");
            info("List of apps:");
        }
        ctx.out(out).await;
        return 0;
    }
    if options.video {
        // SurfaceEncoder.createMediaCodec: Ln.e(...) and a ConfigurationException, for a
        // named encoder the device lacks and for a device with no encoder of the codec.
        let missing = match &options.video_encoder {
            Some(wanted) if !video_encoders.iter().any(|e| &e.name == wanted) => {
                Some(format!("Video encoder '{wanted}' for h264 not found"))
            }
            None if video_encoders.is_empty() => {
                Some("Could not create default video encoder for h264".to_owned())
            }
            _ => None,
        };
        if let Some(message) = missing {
            ctx.err(format!(
                "[server] ERROR: {message}\n{}\n",
                encoders::list_message("video", &video_encoders)
            ))
            .await;
            return 1;
        }
    }
    let name = options.socket_name();
    let result = if options.tunnel_forward {
        match device.sockets().listen(&name) {
            Ok(listener) => server::run(options, &model, screen, listener).await,
            Err(e) => Err(e),
        }
    } else {
        let connector = AbstractConnector {
            sockets: device.sockets().clone(),
            name,
        };
        server::run(options, &model, screen, connector).await
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            ctx.err(format!("[server] ERROR: {e}\n")).await;
            1
        }
    }
}
