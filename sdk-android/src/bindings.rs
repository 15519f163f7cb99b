//! The JNI surface of `com.playrack.sdk.PlayrackClient`: small and explicit — create (with the
//! API base and a listener), play a link or a game with a player token, cancel, leave, touch,
//! key, text, input (probe included), keyframe, stats, destroy. Every native method goes
//! through [`native`] (one error type, one policy) and every input through [`send`]. A `long` handle holds the [`Client`]; the listener is one
//! global reference owned by the client's listener and released with it (on destroy), and the
//! play's thread is attached to the VM while it calls back and detached when it ends. Rust
//! errors and panics become Java `RuntimeException`s; a refused play reaches `onError`.

use jni::objects::{JClass, JObject, JString};

use jni::refs::Global;
use jni::sys::{jboolean, jint, jlong};
use jni::vm::JavaVM;
use jni::{Env, EnvUnowned};
use playrack_client::play::Identity;
use playrack_wire::input::{InputMessage, KeyAction, TouchPhase};

use crate::client::{Client, Listener};

/// The Java listener, called on the play's thread.
struct JavaListener {
    vm: JavaVM,
    listener: Global<JObject<'static>>,
}

impl JavaListener {
    fn call(&self, f: impl FnOnce(&mut Env, &JObject) -> jni::errors::Result<()>) {
        // attached for the call, detached after it: the play's thread never stays attached
        let _ = self
            .vm
            .attach_current_thread_for_scope(|env| f(env, self.listener.as_obj()));
    }
}

impl Listener for JavaListener {
    fn state(&mut self, state: &str, detail: &str) {
        self.call(|env, l| {
            let (s, d) = (env.new_string(state)?, env.new_string(detail)?);
            env.call_method(
                l,
                jni::jni_str!("onState"),
                jni::jni_sig!("(Ljava/lang/String;Ljava/lang/String;)V"),
                &[(&s).into(), (&d).into()],
            )?;
            Ok(())
        });
    }
    fn queue(&mut self, position: u32, length: u32, eta_secs: u32) {
        self.call(|env, l| {
            let args = [position as i32, length as i32, eta_secs as i32].map(jni::JValue::Int);
            env.call_method(l, jni::jni_str!("onQueue"), jni::jni_sig!("(III)V"), &args)?;
            Ok(())
        });
    }
    fn error(&mut self, code: &str, message: &str) {
        self.call(|env, l| {
            let (c, m) = (env.new_string(code)?, env.new_string(message)?);
            env.call_method(
                l,
                jni::jni_str!("onError"),
                jni::jni_sig!("(Ljava/lang/String;Ljava/lang/String;)V"),
                &[(&c).into(), (&m).into()],
            )?;
            Ok(())
        });
    }
    fn video(&mut self, au: &[u8], keyframe: bool, pts_us: i64) {
        self.call(|env, l| {
            let data = env.byte_array_from_slice(au)?;
            env.call_method(
                l,
                jni::jni_str!("onVideo"),
                jni::jni_sig!("([BZJ)V"),
                &[
                    (&data).into(),
                    jni::JValue::Bool(keyframe),
                    jni::JValue::Long(pts_us),
                ],
            )?;
            Ok(())
        });
    }
    fn audio(&mut self, frame: &[u8], pts_us: i64) {
        self.call(|env, l| {
            let data = env.byte_array_from_slice(frame)?;
            env.call_method(
                l,
                jni::jni_str!("onAudio"),
                jni::jni_sig!("([BJ)V"),
                &[(&data).into(), jni::JValue::Long(pts_us)],
            )?;
            Ok(())
        });
    }
}

/// What a native method can fail with; thrown as a `RuntimeException` with its words.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SdkError {
    #[error(transparent)]
    Jni(#[from] jni::errors::Error),
    #[error("{0}")]
    Sdk(String),
}

impl SdkError {
    pub(crate) fn new(words: impl std::fmt::Display) -> SdkError {
        SdkError::Sdk(words.to_string())
    }
}

/// Runs a native method's body: an error or a panic becomes a Java `RuntimeException` and the
/// method returns its type's default (0, false, null).
pub(crate) fn native<'c, T: Default + 'c>(
    mut env: EnvUnowned<'c>,
    body: impl FnOnce(&mut Env<'c>) -> Result<T, SdkError>,
) -> T {
    env.with_env(body)
        .resolve::<jni::errors::ThrowRuntimeExAndDefault>()
}

/// The client behind a handle; an error for a handle that is 0 (destroyed).
fn client<'a>(handle: jlong) -> Result<&'a Client, SdkError> {
    if handle == 0 {
        return Err(SdkError::new("the client was destroyed"));
    }
    // SAFETY: a non-zero handle is a Box<Client> from `start`, alive until `nativeDestroy`,
    // which the Java side calls once and zeroes its handle first.
    Ok(unsafe { &*(handle as *const Client) })
}

/// Sends one input message (checked against the wire's limits) to the play behind `handle`.
fn send(handle: jlong, m: Result<InputMessage, SdkError>) -> Result<jboolean, SdkError> {
    let m = m?;
    m.validate().map_err(SdkError::new)?;
    Ok(client(handle)?.input(m))
}

fn start(
    env: &mut Env,
    base: &JString,
    who: Identity,
    listener: &JObject,
) -> Result<jlong, SdkError> {
    if listener.is_null() {
        return Err(SdkError::new("a listener is required"));
    }
    let l = JavaListener {
        vm: env.get_java_vm()?,
        listener: env.new_global_ref(listener)?,
    };
    let c = Client::play(&base.to_string(), who, l).map_err(SdkError::new)?;
    Ok(Box::into_raw(Box::new(c)) as jlong)
}

/// `static native long nativePlayLink(String apiBase, String code, String deviceId, Listener l)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativePlayLink<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    base: JString<'c>,
    code: JString<'c>,
    device: JString<'c>,
    listener: JObject<'c>,
) -> jlong {
    native(env, |env| {
        let who = Identity::Link {
            code: code.to_string(),
            device_id: device.to_string(),
        };
        start(env, &base, who, &listener)
    })
}

/// `static native long nativePlayGame(String apiBase, String gameId, String playerToken, Listener l)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativePlayGame<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    base: JString<'c>,
    game: JString<'c>,
    token: JString<'c>,
    listener: JObject<'c>,
) -> jlong {
    native(env, |env| {
        let who = Identity::Player {
            game_id: game.to_string(),
            token: token.to_string(),
        };
        start(env, &base, who, &listener)
    })
}

/// `static native boolean nativeInput(long handle, String json)`: any input message, as the
/// wire's JSON (touch, key, text, back, probe, …).
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeInput<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
    json: JString<'c>,
) -> jboolean {
    native(env, |_| {
        let m = serde_json::from_str(&json.to_string())
            .map_err(|e| SdkError::new(format!("not an input message: {e}")));
        send(handle, m)
    })
}

/// `static native boolean nativeTouch(long handle, int pointer, int action, float x, float y)`:
/// `action` 0 down, 1 move, 2 up, 3 cancel; x and y 0–1 of the video.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeTouch<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
    pointer: jint,
    action: jint,
    x: f32,
    y: f32,
) -> jboolean {
    native(env, |_| {
        let phase = match action {
            0 => Ok(TouchPhase::Down),
            1 => Ok(TouchPhase::Move),
            2 => Ok(TouchPhase::Up),
            3 => Ok(TouchPhase::Cancel),
            other => Err(SdkError::new(format!("touch action {other}: use 0–3"))),
        };
        let pointer = u32::try_from(pointer).map_err(|_| SdkError::new("a negative pointer id"));
        send(
            handle,
            phase.and_then(|phase| {
                Ok(InputMessage::Touch {
                    phase,
                    pointer: pointer?,
                    x,
                    y,
                    pressure: None,
                })
            }),
        )
    })
}

/// `static native boolean nativeKey(long handle, boolean down, int keycode)`: an Android key code.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeKey<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
    down: jboolean,
    keycode: jint,
) -> jboolean {
    native(env, |_| {
        let m = u32::try_from(keycode)
            .map_err(|_| SdkError::new("a negative key code"))
            .map(|keycode| InputMessage::Key {
                action: if down { KeyAction::Down } else { KeyAction::Up },
                keycode,
                meta: 0,
            });
        send(handle, m)
    })
}

/// `static native boolean nativeText(long handle, String text)`: text typed into the game.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeText<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
    text: JString<'c>,
) -> jboolean {
    native(env, |_| {
        send(
            handle,
            Ok(InputMessage::Text {
                text: text.to_string(),
            }),
        )
    })
}

/// `static native void nativeCommand(long handle, int command)`: 0 cancel (leave the line),
/// 1 leave (end the play), 2 keyframe (the decoder lost its reference: ask for a new one).
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeCommand<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
    command: jint,
) {
    native(env, |_| {
        let c = client(handle)?;
        match command {
            0 => c.cancel(),
            1 => c.leave(),
            2 => c.keyframe(),
            other => return Err(SdkError::new(format!("command {other}: use 0–2"))),
        }
        Ok(())
    })
}

/// `static native String nativeStats(long handle)`: the H5 SDK's `stats()` as JSON.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeStats<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
) -> JString<'c> {
    native(env, |env| Ok(env.new_string(client(handle)?.stats_json())?))
}

/// `static native void nativeDestroy(long handle)`: leaves, lets the play's thread end, and
/// releases the listener's global reference.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeDestroy<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
) {
    native(env, |_| {
        if handle != 0 {
            // SAFETY: the handle came from `start` and Java destroys it once.
            drop(unsafe { Box::from_raw(handle as *mut Client) });
        }
        Ok(())
    })
}
