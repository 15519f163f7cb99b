//! For the host JVM's tests only (feature `test-hooks`): `com.playrack.sdk.TestDecoder`, an
//! openh264 decoder whose pictures are read back as the test game's tap counter — what a
//! player would see — since a JVM has no MediaCodec.

use jni::EnvUnowned;
use jni::objects::{JByteArray, JClass, JIntArray};
use jni::sys::jlong;
use playrack_client::decode::Decoder;

#[derive(Debug, thiserror::Error)]
enum HookError {
    #[error(transparent)]
    Jni(#[from] jni::errors::Error),
    #[error("{0}")]
    Hook(String),
}

type Policy = jni::errors::ThrowRuntimeExAndDefault;

/// `static native long create()`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_TestDecoder_create<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
) -> jlong {
    env.with_env(|_env| -> Result<jlong, HookError> {
        let d = Decoder::new().map_err(|e| HookError::Hook(e.to_string()))?;
        Ok(Box::into_raw(Box::new(d)) as jlong)
    })
    .resolve::<Policy>()
}

/// `static native int[] decode(long handle, byte[] accessUnit)`: `{width, height, taps}` of the
/// picture it completes (taps −1 when unreadable), or null when none.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_TestDecoder_decode<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
    au: JByteArray<'c>,
) -> JIntArray<'c> {
    env.with_env(|env| -> Result<JIntArray<'c>, HookError> {
        if handle == 0 {
            return Err(HookError::Hook("the decoder was freed".into()));
        }
        // SAFETY: a handle from `create`, freed once by `free`.
        let d = unsafe { &mut *(handle as *mut Decoder) };
        let bytes = env.convert_byte_array(&au)?;
        let Some(p) = d
            .decode(&bytes)
            .map_err(|e| HookError::Hook(e.to_string()))?
        else {
            return Ok(JIntArray::null());
        };
        let luma = android_injector::game::LumaRef {
            data: &p.y,
            width: p.width,
            height: p.height,
            stride: p.width,
        };
        let taps = android_injector::game::read_tap_counter(luma).map_or(-1, |t| t as i32);
        let out = env.new_int_array(3)?;
        out.set_region(env, 0, &[p.width as i32, p.height as i32, taps])?;
        Ok(out)
    })
    .resolve::<Policy>()
}

/// `static native void free(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_TestDecoder_free<'c>(
    mut env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
) {
    env.with_env(|_env| -> Result<(), HookError> {
        if handle != 0 {
            // SAFETY: a handle from `create`, freed once.
            drop(unsafe { Box::from_raw(handle as *mut Decoder) });
        }
        Ok(())
    })
    .resolve::<Policy>()
}
