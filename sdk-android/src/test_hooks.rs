//! For the host JVM's tests only (feature `test-hooks`): `com.playrack.sdk.TestDecoder`, an
//! openh264 decoder whose pictures are read back as the test game's tap counter — what a
//! player would see — since a JVM has no MediaCodec.

use jni::EnvUnowned;
use jni::objects::{JByteArray, JClass, JIntArray};
use jni::sys::jlong;
use playrack_client::decode::Decoder;

use crate::bindings::{SdkError, native};

/// `static native long create()`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_TestDecoder_create<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
) -> jlong {
    native(env, |_| {
        let d = Decoder::new().map_err(SdkError::new)?;
        Ok(Box::into_raw(Box::new(d)) as jlong)
    })
}

/// `static native int[] decode(long handle, byte[] accessUnit)`: `{width, height, taps}` of the
/// picture it completes (taps −1 when unreadable), or null when none.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_TestDecoder_decode<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
    au: JByteArray<'c>,
) -> JIntArray<'c> {
    native(env, |env| {
        if handle == 0 {
            return Err(SdkError::new("the decoder was freed"));
        }
        // SAFETY: a handle from `create`, freed once by `free`.
        let d = unsafe { &mut *(handle as *mut Decoder) };
        let bytes = env.convert_byte_array(&au)?;
        let Some(p) = d.decode(&bytes).map_err(SdkError::new)? else {
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
}

/// `static native void free(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_playrack_sdk_TestDecoder_free<'c>(
    env: EnvUnowned<'c>,
    _class: JClass<'c>,
    handle: jlong,
) {
    native(env, |_| {
        if handle != 0 {
            // SAFETY: a handle from `create`, freed once.
            drop(unsafe { Box::from_raw(handle as *mut Decoder) });
        }
        Ok(())
    })
}
