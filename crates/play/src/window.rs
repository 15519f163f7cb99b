//! The window: winit's event loop and a softbuffer surface (0RGB words, no GPU needed). It
//! draws the latest picture the session left (letterboxed, see [`crate::view`]); until there
//! is one to show, a screen saying where the play stands (the game, the line's position and
//! wait, connecting; and why it ended, shown for [`END_SCREEN`] unless the player left); F3
//! draws the stream's figures over the video (text from [`crate::overlay`]). The title says
//! the same (F3 adds the figures there too). It turns the mouse into touch (left button =
//! finger 0, normalised to the video) and keys into Android keys and text (Esc = BACK).

use std::num::NonZeroU32;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use playrack_wire::input::{InputMessage, KeyAction, TouchPhase};
use tokio::sync::mpsc;
use winit::application::ApplicationHandler;
use winit::dpi::{LogicalSize, PhysicalPosition};
use winit::event::StartCause;
use winit::event::{ElementState, KeyEvent, MouseButton, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop, EventLoopProxy};
use winit::keyboard::{Key, NamedKey};
use winit::window::{Window, WindowId};

use crate::overlay;
use crate::session::{self, Command, Plan, Shared, Status};
use crate::view::{self, Rect};

/// The bars' colour around the picture, and the screen's before it.
const BACKGROUND: u32 = 0x0010_1014;
/// How long the window says why a play ended (when the player did not leave) before it closes.
pub const END_SCREEN: Duration = Duration::from_secs(5);

/// The session changed something.
#[derive(Debug, Clone, Copy)]
struct Wake;

struct Surface {
    window: Rc<Window>,
    surface: softbuffer::Surface<Rc<Window>, Rc<Window>>,
}

struct App {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    woken: Arc<AtomicBool>,
    size: (u32, u32),
    surface: Option<Surface>,
    /// The last picture, as 0RGB words, and its size.
    rgb: Vec<u32>,
    picture_size: (u32, u32),
    /// Where the picture sits in the window now.
    rect: Rect,
    cursor: PhysicalPosition<f64>,
    /// The last point of the video under a pressed button.
    pressed: Option<(f32, f32)>,
    show_figures: bool,
    /// The play ended and the window closes then.
    closing_at: Option<Instant>,
    error: Option<anyhow::Error>,
}

/// Opens the window and plays `plan` in it until the play ends or the window closes; the
/// probes' latencies (ms).
pub fn run(plan: Plan, shared: Arc<Shared>, size: (u32, u32)) -> anyhow::Result<Vec<f64>> {
    let event_loop = EventLoop::<Wake>::with_user_event()
        .build()
        .context("no display to open a window on (set DISPLAY, or pass --headless)")?;
    let proxy: EventLoopProxy<Wake> = event_loop.create_proxy();
    let woken = Arc::new(AtomicBool::new(false));
    let wake = {
        let woken = woken.clone();
        // one wake-up in flight at a time: the loop's own queue never grows
        Box::new(move || {
            if !woken.swap(true, Ordering::AcqRel) {
                let _ = proxy.send_event(Wake);
            }
        })
    };
    let (commands, thread) = session::spawn(plan, shared.clone(), wake);
    let mut app = App {
        shared,
        commands,
        woken,
        size,
        surface: None,
        rgb: Vec::new(),
        picture_size: (0, 0),
        rect: view::fit((0, 0), (0, 0)),
        cursor: PhysicalPosition::new(0.0, 0.0),
        pressed: None,
        show_figures: false,
        closing_at: None,
        error: None,
    };
    event_loop.run_app(&mut app)?;
    // the window closed: the session leaves (or has ended) and its thread returns
    let _ = app.commands.try_send(Command::Leave);
    let samples = thread.join().expect("the play's thread");
    if let Some(e) = app.error {
        return Err(e);
    }
    samples
}

impl App {
    fn send(&self, m: InputMessage) {
        // a full channel drops the input: the session is behind, and input is perishable
        let _ = self.commands.try_send(Command::Input(m));
    }

    fn title(&self) -> String {
        let status = self.shared.status.lock().unwrap().clone();
        let mut t = match status {
            Status::Starting => "Playrack — starting".to_owned(),
            Status::Card { game } => format!("Playrack — {game}"),
            Status::Queued {
                position,
                length,
                eta_secs,
            } => format!("Playrack — in line: {position} of {length}, about {eta_secs} s"),
            Status::Connecting => "Playrack — connecting".to_owned(),
            Status::Playing => "Playrack — playing".to_owned(),
            Status::Ended(why) => format!("Playrack — ended ({why})"),
            Status::Failed(why) => format!("Playrack — {why}"),
        };
        if self.show_figures {
            let s = self.shared.stats.lock().unwrap().clone();
            t.push_str(&format!(
                " | {} fps {} kb/s rtt {} ms loss {:.1}% jitter {:.1} ms",
                s.fps,
                s.bitrate_kbps,
                s.rtt_ms,
                s.loss * 100.0,
                s.jitter_ms
            ));
            if let Some(l) = &s.latency {
                t.push_str(&format!(" | decode {:.1} ms", l.decode_ms));
                if let Some(c) = l.capture_to_shown_ms {
                    t.push_str(&format!(" capture→shown {c:.1} ms"));
                }
            }
            if let Some(ms) = s.last_input_to_frame_ms {
                t.push_str(&format!(" | probe {ms:.1} ms"));
            }
        }
        t
    }

    fn redraw(&mut self) -> anyhow::Result<()> {
        let Some(s) = self.surface.as_mut() else {
            return Ok(());
        };
        let size = s.window.inner_size();
        let (Some(w), Some(h)) = (NonZeroU32::new(size.width), NonZeroU32::new(size.height)) else {
            return Ok(());
        };
        s.surface.resize(w, h).map_err(|e| anyhow::anyhow!("{e}"))?;
        self.rect = view::fit((w.get(), h.get()), self.picture_size);
        let mut buffer = s.surface.buffer_mut().map_err(|e| anyhow::anyhow!("{e}"))?;
        let (pw, ph) = self.picture_size;
        let status = self.shared.status.lock().unwrap().clone();
        let game = self.shared.game.lock().unwrap().clone();
        let screen = overlay::screen_lines(&status, game.as_deref(), pw > 0 && ph > 0);
        let (bw, bh) = (w.get() as usize, h.get() as usize);
        if screen.is_empty() {
            view::blit(
                &self.rgb,
                pw,
                ph,
                &mut buffer,
                w.get(),
                self.rect,
                BACKGROUND,
            );
        } else {
            buffer.fill(BACKGROUND);
            overlay::draw_centred(&mut buffer, bw, bh, &screen);
        }
        if self.show_figures {
            let stats = self.shared.stats.lock().unwrap().clone();
            let audio = self.shared.audio_frames.load(Ordering::Relaxed);
            overlay::draw_panel(&mut buffer, bw, bh, &overlay::figure_lines(&stats, audio));
        }
        buffer.present().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }

    fn touch(&mut self, phase: TouchPhase, at: (f32, f32)) {
        self.send(InputMessage::Touch {
            phase,
            pointer: 0,
            x: at.0,
            y: at.1,
            pressure: None,
        });
    }

    fn key(&mut self, event: &KeyEvent) {
        if event.state != ElementState::Pressed {
            return;
        }
        let keycode = match &event.logical_key {
            Key::Named(NamedKey::F3) => {
                self.show_figures = !self.show_figures;
                if let Some(s) = &self.surface {
                    s.window.set_title(&self.title());
                    s.window.request_redraw();
                }
                return;
            }
            Key::Named(NamedKey::Escape) => return self.send(InputMessage::Back {}),
            Key::Named(NamedKey::Enter) => 66,
            Key::Named(NamedKey::Backspace) => 67,
            Key::Named(NamedKey::Tab) => 61,
            Key::Named(NamedKey::ArrowUp) => 19,
            Key::Named(NamedKey::ArrowDown) => 20,
            Key::Named(NamedKey::ArrowLeft) => 21,
            Key::Named(NamedKey::ArrowRight) => 22,
            _ => {
                if let Some(text) = event
                    .text
                    .as_ref()
                    .filter(|t| !t.chars().any(char::is_control))
                {
                    self.send(InputMessage::Text {
                        text: text.to_string(),
                    });
                }
                return;
            }
        };
        for action in [KeyAction::Down, KeyAction::Up] {
            self.send(InputMessage::Key {
                action,
                keycode,
                meta: 0,
            });
        }
    }
}

impl ApplicationHandler<Wake> for App {
    fn resumed(&mut self, el: &ActiveEventLoop) {
        if self.surface.is_some() {
            return;
        }
        let attrs = Window::default_attributes()
            .with_title(self.title())
            .with_inner_size(LogicalSize::new(self.size.0, self.size.1));
        let made = el
            .create_window(attrs)
            .map_err(anyhow::Error::from)
            .and_then(|w| {
                let window = Rc::new(w);
                let context =
                    softbuffer::Context::new(window.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
                let surface = softbuffer::Surface::new(&context, window.clone())
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(Surface { window, surface })
            });
        match made {
            Ok(s) => self.surface = Some(s),
            Err(e) => {
                self.error = Some(e.context("opening the window"));
                el.exit();
            }
        }
    }

    fn user_event(&mut self, el: &ActiveEventLoop, _: Wake) {
        self.woken.store(false, Ordering::Release);
        if let Some(p) = self.shared.picture.lock().unwrap().take() {
            p.write_rgb32(&mut self.rgb);
            self.picture_size = (p.width as u32, p.height as u32);
        }
        let status = self.shared.status.lock().unwrap().clone();
        if let Some(s) = &self.surface {
            s.window.set_title(&self.title());
            s.window.request_redraw();
        }
        match status {
            // the player left (the window closed, Ctrl+C, the probes done): nothing to say
            Status::Ended(why) if why == "USER_LEFT" => el.exit(),
            Status::Ended(_) | Status::Failed(_) if self.surface.is_none() => el.exit(),
            Status::Ended(_) | Status::Failed(_) => {
                let at = *self
                    .closing_at
                    .get_or_insert_with(|| Instant::now() + END_SCREEN);
                el.set_control_flow(ControlFlow::WaitUntil(at));
            }
            _ => {}
        }
    }

    fn new_events(&mut self, el: &ActiveEventLoop, cause: StartCause) {
        if matches!(cause, StartCause::ResumeTimeReached { .. })
            && self.closing_at.is_some_and(|at| Instant::now() >= at)
        {
            el.exit();
        }
    }

    fn window_event(&mut self, el: &ActiveEventLoop, _: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested | WindowEvent::Destroyed => {
                let _ = self.commands.try_send(Command::Leave);
                el.exit();
            }
            WindowEvent::RedrawRequested => {
                if let Err(e) = self.redraw() {
                    self.error = Some(e.context("drawing"));
                    el.exit();
                }
            }
            WindowEvent::Resized(_) => {
                if let Some(s) = &self.surface {
                    s.window.request_redraw();
                }
            }
            WindowEvent::CursorMoved { position, .. } => {
                self.cursor = position;
                if self.pressed.is_some()
                    && let Some(at) = view::to_video(self.rect, position.x, position.y)
                {
                    self.pressed = Some(at);
                    self.touch(TouchPhase::Move, at);
                }
            }
            WindowEvent::MouseInput {
                state,
                button: MouseButton::Left,
                ..
            } => match state {
                ElementState::Pressed => {
                    if let Some(at) = view::to_video(self.rect, self.cursor.x, self.cursor.y) {
                        self.pressed = Some(at);
                        self.touch(TouchPhase::Down, at);
                    }
                }
                ElementState::Released => {
                    if let Some(at) = self.pressed.take() {
                        let at =
                            view::to_video(self.rect, self.cursor.x, self.cursor.y).unwrap_or(at);
                        self.touch(TouchPhase::Up, at);
                    }
                }
            },
            WindowEvent::KeyboardInput { event, .. } => self.key(&event),
            _ => {}
        }
    }
}
