package com.playrack.sdk.android;

import android.app.Activity;
import android.content.Context;
import android.content.ContextWrapper;
import android.content.pm.ActivityInfo;
import android.graphics.Color;
import android.media.AudioAttributes;
import android.media.AudioFormat;
import android.media.AudioTrack;
import android.media.MediaCodec;
import android.media.MediaFormat;
import android.os.Build;
import android.os.Handler;
import android.os.HandlerThread;
import android.os.Looper;
import android.util.AttributeSet;
import android.util.Log;
import android.view.KeyEvent;
import android.view.MotionEvent;
import android.view.SurfaceHolder;
import android.view.SurfaceView;
import android.widget.FrameLayout;
import com.playrack.sdk.Letterbox;
import com.playrack.sdk.PlayrackClient;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;

/**
 * A play of a Playrack game in an Android layout: the stream decoded by {@link MediaCodec}
 * straight to a {@link SurfaceView} ({@code KEY_LOW_LATENCY} where the platform has it),
 * letterboxed in this view; Opus decoded by MediaCodec and played by a low-latency
 * {@link AudioTrack}; MotionEvents sent as multi-touch (0–1 of the video, up to ten fingers);
 * keys (BACK included) sent while the view has focus. When the game turns (the video's size
 * changes) the view lays the video out again and, if asked, turns the activity to match.
 *
 * <p>Events reach the app's {@link Listener} on the main thread. Call {@link #close()} (or
 * remove the view) to leave the play.
 */
public class PlayrackView extends FrameLayout implements SurfaceHolder.Callback {
    /** What the app hears, on the main thread. */
    public interface Listener {
        /** {@code queued}, {@code connecting}, {@code playing}, {@code ended} (detail: the reason). */
        void onState(String state, String detail);

        void onQueue(int position, int length, int etaSecs);

        /** The controller's stable code (e.g. {@code LINK_REVOKED}) and its words. */
        void onError(String code, String message);
    }

    private static final String TAG = "Playrack";
    /** Access units waiting for a decoder input buffer; past it the decoder is behind and resyncs on a key frame. */
    private static final int PENDING_VIDEO = 8;
    /** Opus frames waiting likewise (20 ms each). */
    private static final int PENDING_AUDIO = 8;
    private static final int FINGERS = 10;
    private static final int SAMPLE_RATE = 48000, CHANNELS = 2;

    private final SurfaceView surface;
    private final Handler main = new Handler(Looper.getMainLooper());
    private final HandlerThread codecThread = new HandlerThread("playrack-codec");
    private Handler codecHandler;
    private PlayrackClient client;
    private Listener listener;
    private VideoDecoder video;
    private AudioDecoder audio;
    private int videoWidth, videoHeight;
    private boolean followVideoOrientation;

    public PlayrackView(Context context) {
        this(context, null);
    }

    public PlayrackView(Context context, AttributeSet attrs) {
        super(context, attrs);
        setBackgroundColor(Color.BLACK);
        setFocusable(true);
        setFocusableInTouchMode(true);
        surface = new SurfaceView(context);
        surface.getHolder().addCallback(this);
        addView(surface, new LayoutParams(LayoutParams.MATCH_PARENT, LayoutParams.MATCH_PARENT));
    }

    /** Plays a try-play link's game ({@code deviceId}: this install's own id, 16–64 of A–Z a–z 0–9 - _). */
    public void playLink(String apiBase, String code, String deviceId, Listener listener) {
        start(listener);
        client = PlayrackClient.playLink(apiBase, code, deviceId, new Events());
    }

    /** Plays a game as the player a tenant's backend signed {@code playerToken} for. */
    public void playGame(String apiBase, String gameId, String playerToken, Listener listener) {
        start(listener);
        client = PlayrackClient.playGame(apiBase, gameId, playerToken, new Events());
    }

    /** Turn the activity to the game's orientation whenever the video turns (off by default). */
    public void setFollowVideoOrientation(boolean follow) {
        followVideoOrientation = follow;
    }

    /** The play's client (text, probe, stats, cancel); null before a play starts. */
    public PlayrackClient client() {
        return client;
    }

    /** Leaves the play and stops the decoders. Idempotent. */
    public void close() {
        PlayrackClient c = client;
        client = null;
        if (c != null) {
            c.close();
        }
        synchronized (this) {
            stopVideo();
            if (audio != null) {
                audio.stopAll();
                audio = null;
            }
        }
        if (codecHandler != null) {
            codecThread.quitSafely();
            codecHandler = null;
        }
    }

    private void start(Listener l) {
        if (client != null) {
            throw new IllegalStateException("this view is already playing: close() it first");
        }
        listener = l;
        if (codecHandler == null) {
            codecThread.start();
            codecHandler = new Handler(codecThread.getLooper());
        }
        requestFocus();
    }

    @Override
    protected void onDetachedFromWindow() {
        close();
        super.onDetachedFromWindow();
    }

    // --- layout: the surface sits on the video's rectangle, bars around it

    @Override
    protected void onLayout(boolean changed, int l, int t, int r, int b) {
        Letterbox box = box();
        if (box.isEmpty()) {
            surface.layout(0, 0, r - l, b - t);
        } else {
            surface.layout(box.left, box.top, box.left + box.width, box.top + box.height);
        }
    }

    private Letterbox box() {
        return Letterbox.fit(getWidth(), getHeight(), videoWidth, videoHeight);
    }

    private void videoSize(int width, int height) {
        if (width == videoWidth && height == videoHeight) {
            return;
        }
        videoWidth = width;
        videoHeight = height;
        requestLayout();
        Activity activity = activity();
        if (followVideoOrientation && activity != null) {
            activity.setRequestedOrientation(width > height
                    ? ActivityInfo.SCREEN_ORIENTATION_SENSOR_LANDSCAPE
                    : ActivityInfo.SCREEN_ORIENTATION_SENSOR_PORTRAIT);
        }
    }

    private Activity activity() {
        Context c = getContext();
        while (c instanceof ContextWrapper) {
            if (c instanceof Activity) {
                return (Activity) c;
            }
            c = ((ContextWrapper) c).getBaseContext();
        }
        return null;
    }

    // --- input

    @Override
    public boolean onTouchEvent(MotionEvent e) {
        PlayrackClient c = client;
        Letterbox box = box();
        if (c == null || box.isEmpty()) {
            return false;
        }
        int action = e.getActionMasked();
        switch (action) {
            case MotionEvent.ACTION_DOWN:
            case MotionEvent.ACTION_POINTER_DOWN:
                finger(c, box, e, e.getActionIndex(), PlayrackClient.DOWN);
                break;
            case MotionEvent.ACTION_UP:
            case MotionEvent.ACTION_POINTER_UP:
                finger(c, box, e, e.getActionIndex(), PlayrackClient.UP);
                break;
            case MotionEvent.ACTION_MOVE:
                for (int i = 0; i < e.getPointerCount(); i++) {
                    finger(c, box, e, i, PlayrackClient.MOVE);
                }
                break;
            case MotionEvent.ACTION_CANCEL:
                for (int i = 0; i < e.getPointerCount(); i++) {
                    finger(c, box, e, i, PlayrackClient.CANCEL);
                }
                break;
            default:
                return false;
        }
        return true;
    }

    private static void finger(PlayrackClient c, Letterbox box, MotionEvent e, int index, int action) {
        int id = e.getPointerId(index);
        if (id < 0 || id >= FINGERS) {
            return;
        }
        float[] at = box.toVideo(e.getX(index), e.getY(index));
        if (at != null) {
            c.touch(id, action, at[0], at[1]);
        }
    }

    @Override
    public boolean onKeyDown(int keyCode, KeyEvent event) {
        return key(true, keyCode) || super.onKeyDown(keyCode, event);
    }

    @Override
    public boolean onKeyUp(int keyCode, KeyEvent event) {
        return key(false, keyCode) || super.onKeyUp(keyCode, event);
    }

    private boolean key(boolean down, int keyCode) {
        PlayrackClient c = client;
        // volume and power stay with the phone
        if (c == null
                || keyCode == KeyEvent.KEYCODE_VOLUME_UP
                || keyCode == KeyEvent.KEYCODE_VOLUME_DOWN
                || keyCode == KeyEvent.KEYCODE_POWER) {
            return false;
        }
        return c.key(down, keyCode);
    }

    // --- the surface comes and goes (backgrounded, turned): the decoder follows it

    @Override
    public synchronized void surfaceCreated(SurfaceHolder holder) {
        stopVideo();
        if (codecHandler == null) {
            return;
        }
        try {
            video = new VideoDecoder(holder);
        } catch (IOException | RuntimeException e) {
            Log.e(TAG, "no H.264 decoder for the surface", e);
            return;
        }
        PlayrackClient c = client;
        if (c != null) {
            c.requestKeyframe();
        }
    }

    @Override
    public void surfaceChanged(SurfaceHolder holder, int format, int width, int height) {
        // the codec scales to the surface; nothing to do
    }

    @Override
    public synchronized void surfaceDestroyed(SurfaceHolder holder) {
        stopVideo();
    }

    private void stopVideo() {
        if (video != null) {
            video.stop();
            video = null;
        }
    }

    private synchronized void onAccessUnit(byte[] au, boolean keyframe, long ptsUs) {
        if (video != null && !video.offer(au, keyframe, ptsUs)) {
            PlayrackClient c = client;
            if (c != null) {
                c.requestKeyframe();
            }
        }
    }

    private synchronized void onOpus(byte[] frame, long ptsUs) {
        if (codecHandler == null) {
            return;
        }
        if (audio == null) {
            try {
                audio = new AudioDecoder();
            } catch (IOException | RuntimeException e) {
                Log.w(TAG, "no Opus decoder or audio output: playing without sound", e);
                return;
            }
        }
        audio.offer(frame, ptsUs);
    }

    /** One call of the app's listener (java.util.function arrives only with API 24). */
    private interface AppCall {
        void to(Listener l);
    }

    /** Calls the app's listener on the main thread, if it still has one. */
    private void toApp(AppCall call) {
        main.post(() -> {
            Listener l = listener;
            if (l != null) {
                call.to(l);
            }
        });
    }

    /** The client's events: state to the app on the main thread, media to the decoders. */
    private final class Events implements PlayrackClient.Listener {
        @Override
        public void onState(String state, String detail) {
            toApp(l -> l.onState(state, detail));
        }

        @Override
        public void onQueue(int position, int length, int etaSecs) {
            toApp(l -> l.onQueue(position, length, etaSecs));
        }

        @Override
        public void onError(String code, String message) {
            toApp(l -> l.onError(code, message));
        }

        @Override
        public void onVideo(byte[] accessUnit, boolean keyframe, long ptsUs) {
            onAccessUnit(accessUnit, keyframe, ptsUs);
        }

        @Override
        public void onAudio(byte[] opusFrame, long ptsUs) {
            onOpus(opusFrame, ptsUs);
        }
    }

    /** One unit for a codec: bytes, time, flags. */
    private static final class Unit {
        final byte[] data;
        final long ptsUs;
        final int flags;

        Unit(byte[] data, long ptsUs, int flags) {
            this.data = data;
            this.ptsUs = ptsUs;
            this.flags = flags;
        }
    }

    /**
     * A codec in asynchronous mode on the codec thread: units wait (bounded) for free input
     * buffers, each output is handled as it comes.
     */
    private abstract class Codec extends MediaCodec.Callback {
        final MediaCodec codec;
        private final ArrayDeque<Integer> free = new ArrayDeque<>();
        private final ArrayDeque<Unit> pending = new ArrayDeque<>();
        private final int bound;
        private boolean stopped;

        Codec(String mime, int bound) throws IOException {
            this.codec = MediaCodec.createDecoderByType(mime);
            this.bound = bound;
            codec.setCallback(this, codecHandler);
        }

        /** Queues a unit; false when the codec is behind and the oldest were dropped. */
        final synchronized boolean offer(Unit u) {
            if (stopped) {
                return true;
            }
            boolean kept = true;
            if (pending.size() >= bound) {
                pending.clear();
                kept = false;
            }
            pending.add(u);
            feed();
            return kept;
        }

        private void feed() {
            while (!stopped && !free.isEmpty() && !pending.isEmpty()) {
                int index = free.poll();
                Unit u = pending.poll();
                ByteBuffer in = codec.getInputBuffer(index);
                if (in == null || in.capacity() < u.data.length) {
                    codec.queueInputBuffer(index, 0, 0, u.ptsUs, 0);
                    continue;
                }
                in.clear();
                in.put(u.data);
                codec.queueInputBuffer(index, 0, u.data.length, u.ptsUs, u.flags);
            }
        }

        @Override
        public final synchronized void onInputBufferAvailable(MediaCodec mc, int index) {
            free.add(index);
            feed();
        }

        @Override
        public void onError(MediaCodec mc, MediaCodec.CodecException e) {
            Log.e(TAG, "codec error", e);
        }

        /** Stops and frees the codec; its own thread's callbacks may still be running, so not under the lock. */
        final void stop() {
            synchronized (this) {
                if (stopped) {
                    return;
                }
                stopped = true;
                pending.clear();
            }
            try {
                codec.stop();
            } catch (IllegalStateException e) {
                Log.w(TAG, "stopping a codec", e);
            }
            codec.release();
        }
    }

    /** H.264 to the surface, rendered as soon as decoded. */
    private final class VideoDecoder extends Codec {
        private boolean synced;

        VideoDecoder(SurfaceHolder holder) throws IOException {
            super(MediaFormat.MIMETYPE_VIDEO_AVC, PENDING_VIDEO);
            // the stream's SPS says the real size; this is where the decoder starts
            MediaFormat f = MediaFormat.createVideoFormat(MediaFormat.MIMETYPE_VIDEO_AVC, 1280, 720);
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                f.setInteger(MediaFormat.KEY_LOW_LATENCY, 1);
            }
            f.setInteger(MediaFormat.KEY_PRIORITY, 0); // realtime
            codec.configure(f, holder.getSurface(), null, 0);
            codec.start();
        }

        /** False when the decoder fell behind or lost its reference and needs a key frame. */
        synchronized boolean offer(byte[] au, boolean keyframe, long ptsUs) {
            if (!synced && !keyframe) {
                return false;
            }
            synced = true;
            boolean kept = offer(new Unit(au, ptsUs, keyframe ? MediaCodec.BUFFER_FLAG_KEY_FRAME : 0));
            if (!kept) {
                synced = false;
            }
            return kept;
        }

        @Override
        public void onOutputBufferAvailable(MediaCodec mc, int index, MediaCodec.BufferInfo info) {
            try {
                mc.releaseOutputBuffer(index, info.size > 0);
            } catch (IllegalStateException e) {
                // stopped meanwhile
            }
        }

        @Override
        public void onOutputFormatChanged(MediaCodec mc, MediaFormat format) {
            int w = format.getInteger(MediaFormat.KEY_WIDTH), h = format.getInteger(MediaFormat.KEY_HEIGHT);
            if (format.containsKey("crop-right") && format.containsKey("crop-left")) {
                w = format.getInteger("crop-right") - format.getInteger("crop-left") + 1;
                h = format.getInteger("crop-bottom") - format.getInteger("crop-top") + 1;
            }
            int width = w, height = h;
            main.post(() -> videoSize(width, height));
        }
    }

    /** Opus (48 kHz) to 16-bit PCM, written to a low-latency AudioTrack without blocking. */
    private final class AudioDecoder extends Codec {
        private final AudioTrack track;

        AudioDecoder() throws IOException {
            super(MediaFormat.MIMETYPE_AUDIO_OPUS, PENDING_AUDIO);
            MediaFormat f = MediaFormat.createAudioFormat(MediaFormat.MIMETYPE_AUDIO_OPUS, SAMPLE_RATE, CHANNELS);
            // Android's Opus decoder takes the OpusHead and its pre-skip and seek pre-roll (ns)
            f.setByteBuffer("csd-0", opusHead());
            f.setByteBuffer("csd-1", nanos(312L * 1_000_000_000L / SAMPLE_RATE));
            f.setByteBuffer("csd-2", nanos(80_000_000L));
            codec.configure(f, null, null, 0);
            int min = AudioTrack.getMinBufferSize(SAMPLE_RATE, AudioFormat.CHANNEL_OUT_STEREO, AudioFormat.ENCODING_PCM_16BIT);
            AudioTrack.Builder b = new AudioTrack.Builder()
                    .setAudioAttributes(new AudioAttributes.Builder()
                            .setUsage(AudioAttributes.USAGE_GAME)
                            .setContentType(AudioAttributes.CONTENT_TYPE_SONIFICATION)
                            .build())
                    .setAudioFormat(new AudioFormat.Builder()
                            .setEncoding(AudioFormat.ENCODING_PCM_16BIT)
                            .setSampleRate(SAMPLE_RATE)
                            .setChannelMask(AudioFormat.CHANNEL_OUT_STEREO)
                            .build())
                    .setTransferMode(AudioTrack.MODE_STREAM)
                    .setBufferSizeInBytes(Math.max(min, SAMPLE_RATE * CHANNELS * 2 / 20));
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) {
                b.setPerformanceMode(AudioTrack.PERFORMANCE_MODE_LOW_LATENCY);
            }
            track = b.build();
            track.play();
            codec.start();
        }

        void offer(byte[] frame, long ptsUs) {
            offer(new Unit(frame, ptsUs, 0));
        }

        @Override
        public void onOutputBufferAvailable(MediaCodec mc, int index, MediaCodec.BufferInfo info) {
            try {
                ByteBuffer pcm = mc.getOutputBuffer(index);
                if (pcm != null && info.size > 0) {
                    pcm.position(info.offset).limit(info.offset + info.size);
                    // late audio is dropped, never waited for
                    track.write(pcm, info.size, AudioTrack.WRITE_NON_BLOCKING);
                }
                mc.releaseOutputBuffer(index, false);
            } catch (IllegalStateException e) {
                // stopped meanwhile
            }
        }

        @Override
        public void onOutputFormatChanged(MediaCodec mc, MediaFormat format) {
            Log.i(TAG, "audio: " + format);
        }

        void stopAll() {
            stop();
            track.release();
        }
    }

    /** RFC 7845's identification header: version 1, stereo, 312 samples pre-skip, 48 kHz, family 0. */
    private static ByteBuffer opusHead() {
        ByteBuffer b = ByteBuffer.allocate(19).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, (byte) CHANNELS});
        b.putShort((short) 312).putInt(SAMPLE_RATE).putShort((short) 0).put((byte) 0);
        b.flip();
        return b;
    }

    private static ByteBuffer nanos(long ns) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        b.putLong(ns).flip();
        return b;
    }
}
