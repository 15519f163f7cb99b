package com.playrack.sdk;

/**
 * One play of a Playrack game, on any JVM: the protocol, WebRTC and input live in the Rust
 * core (libplayrack); this class only hands it calls and hears its events. Events come on the
 * play's own thread; do not block in them. Close the client to leave and free it.
 */
public final class PlayrackClient implements AutoCloseable {
    /** What a play says. Called on the play's thread, one call at a time. */
    public interface Listener {
        /** {@code queued} (detail: the position), {@code connecting}, {@code playing}, {@code ended} (detail: the reason). */
        void onState(String state, String detail);

        void onQueue(int position, int length, int etaSecs);

        /** A refusal or failure: the controller's stable code (e.g. {@code LINK_REVOKED}) and its words. */
        void onError(String code, String message);

        /** One H.264 access unit (Annex-B), ready for a decoder. */
        void onVideo(byte[] accessUnit, boolean keyframe, long ptsUs);

        /** One Opus frame (48 kHz). */
        void onAudio(byte[] opusFrame, long ptsUs);
    }

    /** Touch actions for {@link #touch}. */
    public static final int DOWN = 0, MOVE = 1, UP = 2, CANCEL = 3;

    static {
        System.loadLibrary("playrack");
    }

    private static final int CANCEL_COMMAND = 0, LEAVE_COMMAND = 1, KEYFRAME_COMMAND = 2;

    private long handle;

    private PlayrackClient(long handle) {
        this.handle = handle;
    }

    /** Plays a try-play link's game: {@code apiBase} is the link's origin, {@code deviceId} this install's own id (16–64 of A–Z a–z 0–9 - _). */
    public static PlayrackClient playLink(String apiBase, String code, String deviceId, Listener listener) {
        return new PlayrackClient(nativePlayLink(apiBase, code, deviceId, listener));
    }

    /** Plays a game as the player a tenant's backend signed {@code playerToken} for. */
    public static PlayrackClient playGame(String apiBase, String gameId, String playerToken, Listener listener) {
        return new PlayrackClient(nativePlayGame(apiBase, gameId, playerToken, listener));
    }

    /** A finger: {@code pointer} 0–9, {@code action} {@link #DOWN}…{@link #CANCEL}, x and y 0–1 of the video. */
    public synchronized boolean touch(int pointer, int action, float x, float y) {
        return nativeTouch(live(), pointer, action, x, y);
    }

    /** An Android key code (4 BACK, 66 ENTER, …) going down or up. */
    public synchronized boolean key(boolean down, int keycode) {
        return nativeKey(live(), down, keycode);
    }

    /** Text typed into the game (the focused field). */
    public synchronized boolean text(String text) {
        return nativeText(live(), text);
    }

    /** Any input message of the wire protocol, as JSON (e.g. {@code {"t":"text","text":"hi"}}). */
    public synchronized boolean input(String json) {
        return nativeInput(live(), json);
    }

    /** The latency probe: the test game flips its probe square on the next frame. */
    public boolean probe(int seq) {
        return input("{\"t\":\"probe\",\"seq\":" + Integer.toUnsignedString(seq) + "}");
    }

    /** The stream's figures as JSON, with the H5 SDK's {@code stats()} fields. */
    public synchronized String stats() {
        return nativeStats(live());
    }

    /** Leaves the line before the play starts. */
    public synchronized void cancel() {
        nativeCommand(live(), CANCEL_COMMAND);
    }

    /** Ends the play ({@code ended} follows with {@code USER_LEFT}). */
    public synchronized void leave() {
        nativeCommand(live(), LEAVE_COMMAND);
    }

    /** Asks for a key frame: the app's decoder lost its reference (a new surface, a dropped access unit). At most one a second is sent. */
    public synchronized void requestKeyframe() {
        nativeCommand(live(), KEYFRAME_COMMAND);
    }

    /** Leaves if still playing, waits for the play's thread and frees the client. Idempotent. */
    @Override
    public synchronized void close() {
        long h = handle;
        handle = 0;
        if (h != 0) {
            nativeDestroy(h);
        }
    }

    private long live() {
        if (handle == 0) {
            throw new IllegalStateException("the client is closed");
        }
        return handle;
    }

    private static native long nativePlayLink(String apiBase, String code, String deviceId, Listener listener);

    private static native long nativePlayGame(String apiBase, String gameId, String playerToken, Listener listener);

    private static native boolean nativeTouch(long handle, int pointer, int action, float x, float y);

    private static native boolean nativeKey(long handle, boolean down, int keycode);

    private static native boolean nativeInput(long handle, String json);

    private static native String nativeStats(long handle);

    private static native boolean nativeText(long handle, String text);

    private static native void nativeCommand(long handle, int command);

    private static native void nativeDestroy(long handle);
}
