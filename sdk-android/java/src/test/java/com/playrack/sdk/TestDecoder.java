package com.playrack.sdk;

/** openh264 in libplayrack's test hooks: decodes access units and reads the test game's tap counter. */
final class TestDecoder implements AutoCloseable {
    private long handle = create();

    /** {width, height, taps} of the picture this access unit completes (taps -1: unreadable), or null. */
    int[] decode(byte[] accessUnit) {
        return decode(handle, accessUnit);
    }

    @Override
    public void close() {
        long h = handle;
        handle = 0;
        free(h);
    }

    private static native long create();

    private static native int[] decode(long handle, byte[] accessUnit);

    private static native void free(long handle);
}
