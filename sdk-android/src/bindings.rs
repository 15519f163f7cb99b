//! The JNI surface of `com.playrack.sdk.PlayrackClient`: small and explicit — create (with the
//! API base and a listener), play a link or a game with a player token, cancel, leave, touch,
//! key, text, probe, stats, destroy. A `long` handle holds the [`Client`]; the listener is one
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
enum SdkError {
    #[error(transparent)]
    Jni(#[from] jni::errors::Error),
    #[error("{0}")]
    Sdk(String),
}

type Policy = jni::errors::ThrowRuntimeExAndDefault;

/// The client behind a handle; an error for a handle that is 0 (destroyed).
fn client<'a>(handle: jlong) -> Result<&'a Client, SdkError> {
    if handle == 0 {
        return Err(SdkError::Sdk("the client was destroyed".into()));
    }
    // SAFETY: a non-zero handle is a Box<Client> from `start`, alive until `nativeDestroy`,
    // which the Java side calls once and zeroes its handle first.
    Ok(unsafe { &*(handle as *const Client) })
}

fn start(
    env: &mut Env,
    base: &JString,
    who: Identity,
    listener: &JObject,
) -> Result<jlong, SdkError> {
    if listener.is_null() {
        return Err(SdkError::Sdk("a listener is required".into()));
    }
    let l = JavaListener {
        vm: env.get_java_vm()?,
        listener: env.new_global_ref(listener)?,
    };
    let c = Client::play(&base.to_string(), who, l).map_err(|e| SdkError::Sdk(e.to_string()))?;
    Ok(Box::into_raw(Box::new(c)) as jlong)
}

/// `static native long nativePlayLink(String apiBase, String code, String deviceId, Listener l)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativePlayLink<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    base: JString<'c>,
    code: JString<'c>,
    device: JString<'c>,
    listener: JObject<'c>,
) -> jlong {
    env.with_env(|env| -> Result<jlong, SdkError> {
        let who = Identity::Link {
            code: code.to_string(),
            device_id: device.to_string(),
        };
        start(env, &base, who, &listener)
    })
    .resolve::<Policy>()
}

/// `static native long nativePlayGame(String apiBase, String gameId, String playerToken, Listener l)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativePlayGame<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    base: JString<'c>,
    game: JString<'c>,
    token: JString<'c>,
    listener: JObject<'c>,
) -> jlong {
    env.with_env(|env| -> Result<jlong, SdkError> {
        let who = Identity::Player {
            game_id: game.to_string(),
            token: token.to_string(),
        };
        start(env, &base, who, &listener)
    })
    .resolve::<Policy>()
}

/// `static native boolean nativeInput(long handle, String json)`: any input message, as the
/// wire's JSON (touch, key, text, back, probe, …), checked here.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeInput<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
    json: JString<'c>,
) -> jboolean {
    env.with_env(|_env| -> Result<jboolean, SdkError> {
        let m: InputMessage = serde_json::from_str(&json.to_string())
            .map_err(|e| SdkError::Sdk(format!("not an input message: {e}")))?;
        Ok(client(handle)?.input(m))
    })
    .resolve::<Policy>()
}

/// `static native boolean nativeTouch(long handle, int pointer, int action, float x, float y)`:
/// `action` 0 down, 1 move, 2 up, 3 cancel; x and y 0–1 of the video.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeTouch<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
    pointer: jint,
    action: jint,
    x: f32,
    y: f32,
) -> jboolean {
    env.with_env(|_env| -> Result<jboolean, SdkError> {
        let phase = match action {
            0 => TouchPhase::Down,
            1 => TouchPhase::Move,
            2 => TouchPhase::Up,
            3 => TouchPhase::Cancel,
            other => return Err(SdkError::Sdk(format!("touch action {other}: use 0–3"))),
        };
        let pointer =
            u32::try_from(pointer).map_err(|_| SdkError::Sdk("a negative pointer id".into()))?;
        Ok(client(handle)?.input(InputMessage::Touch {
            phase,
            pointer,
            x,
            y,
            pressure: None,
        }))
    })
    .resolve::<Policy>()
}

/// `static native boolean nativeKey(long handle, boolean down, int keycode)`: an Android key code.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeKey<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
    down: jboolean,
    keycode: jint,
) -> jboolean {
    env.with_env(|_env| -> Result<jboolean, SdkError> {
        let keycode =
            u32::try_from(keycode).map_err(|_| SdkError::Sdk("a negative key code".into()))?;
        let action = if down { KeyAction::Down } else { KeyAction::Up };
        Ok(client(handle)?.input(InputMessage::Key {
            action,
            keycode,
            meta: 0,
        }))
    })
    .resolve::<Policy>()
}

/// `static native void nativeCancel(long handle)`, `nativeLeave`: leave the line, or the play.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeCancel<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
) {
    env.with_env(|_env| -> Result<(), SdkError> {
        client(handle)?.cancel();
        Ok(())
    })
    .resolve::<Policy>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeLeave<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
) {
    env.with_env(|_env| -> Result<(), SdkError> {
        client(handle)?.leave();
        Ok(())
    })
    .resolve::<Policy>()
}

/// `static native String nativeStats(long handle)`: the H5 SDK's `stats()` as JSON.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeStats<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
) -> JString<'c> {
    env.with_env(|env| -> Result<JString<'c>, SdkError> {
        Ok(env.new_string(client(handle)?.stats_json())?)
    })
    .resolve::<Policy>()
}

/// `static native void nativeDestroy(long handle)`: leaves, joins the play's thread, and
/// releases the listener's global reference.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_PlayrackClient_nativeDestroy<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
) {
    env.with_env(|_env| -> Result<(), SdkError> {
        if handle != 0 {
            // SAFETY: the handle came from `start` and Java destroys it once.
            drop(unsafe { Box::from_raw(handle as *mut Client) });
        }
        Ok(())
    })
    .resolve::<Policy>()
}
