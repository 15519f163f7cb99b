package com.playrack.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The facade on a host JVM against a running stack (controller, agent, virtual device) that
 * the Rust harness (tests/tests/jvm.rs) starts and names in PLAYRACK_* variables.
 */
class PlayrackClientTest {
    static final String BASE = env("PLAYRACK_API_BASE");
    static final String LINK = env("PLAYRACK_LINK_CODE");
    static final String REVOKED = env("PLAYRACK_REVOKED_CODE");

    static String env(String name) {
        String v = System.getenv(name);
        if (v == null) {
            throw new IllegalStateException(name + " is not set: run through tests/tests/jvm.rs");
        }
        return v;
    }

    /** Everything the listener heard, in order; bounded (a test that stops reading loses video, not events). */
    static final class Recorder implements PlayrackClient.Listener {
        final BlockingQueue<String> events = new ArrayBlockingQueue<>(1024);
        final BlockingQueue<byte[]> video = new ArrayBlockingQueue<>(512);
        volatile int audio;

        @Override
        public void onState(String state, String detail) {
            events.offer("state " + state + " " + detail);
        }

        @Override
        public void onQueue(int position, int length, int etaSecs) {
            events.offer("queue " + position + " " + length);
        }

        @Override
        public void onError(String code, String message) {
            events.offer("error " + code + " " + message);
        }

        @Override
        public void onVideo(byte[] accessUnit, boolean keyframe, long ptsUs) {
            video.offer(accessUnit);
        }

        @Override
        public void onAudio(byte[] opusFrame, long ptsUs) {
            audio++;
        }

        /** Waits for an event starting with {@code prefix}; the event. */
        String await(String prefix, long seconds) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < end) {
                String e = events.poll(100, TimeUnit.MILLISECONDS);
                if (e != null && e.startsWith(prefix)) {
                    return e;
                }
            }
            return fail("no '" + prefix + "' within " + seconds + " s");
        }
    }

    /** Decodes what arrives until {@code done} holds for a picture; the picture. */
    static int[] decodeUntil(Recorder r, TestDecoder d, java.util.function.Predicate<int[]> done, long seconds)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            byte[] au = r.video.poll(100, TimeUnit.MILLISECONDS);
            if (au == null) {
                continue;
            }
            int[] p = d.decode(au);
            if (p != null && done.test(p)) {
                return p;
            }
        }
        return fail("the decoded pictures never showed it within " + seconds + " s");
    }

    @Test
    void aLinkPlaysDecodesAndTakesATap() throws Exception {
        Recorder r = new Recorder();
        try (PlayrackClient c = PlayrackClient.playLink(BASE, LINK, "jvm-test-device-00000001", r);
                TestDecoder d = new TestDecoder()) {
            r.await("state playing", 60);
            int[] decoded = {0};
            int[] first = decodeUntil(r, d, p -> ++decoded[0] >= 60 && p[2] >= 0, 30);
            assertEquals(360, first[0]);
            assertEquals(640, first[1]);
            int before = first[2];
            assertTrue(c.touch(0, PlayrackClient.DOWN, 0.5f, 0.75f));
            assertTrue(c.touch(0, PlayrackClient.UP, 0.5f, 0.75f));
            decodeUntil(r, d, p -> p[2] == before + 1, 15);
            String stats = c.stats();
            assertTrue(stats.contains("\"framesDecoded\""), stats);
            assertTrue(r.audio > 0, "Opus frames arrive");
            c.leave();
            assertEquals("state ended USER_LEFT", r.await("state ended", 30));
        }
    }

    @Test
    void aRevokedLinkSaysWhy() throws Exception {
        Recorder r = new Recorder();
        PlayrackClient c = PlayrackClient.playLink(BASE, REVOKED, "jvm-test-device-00000002", r);
        try {
            String e = r.await("error ", 30);
            assertTrue(e.startsWith("error LINK_REVOKED "), e);
            r.await("state ended", 10);
        } finally {
            c.close();
        }
    }

    @Test
    void badInputIsAClearException() {
        Recorder r = new Recorder();
        try (PlayrackClient c = PlayrackClient.playLink(BASE, REVOKED, "jvm-test-device-00000003", r)) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> c.touch(0, 9, 0.5f, 0.5f));
            assertNotNull(e.getMessage());
            assertTrue(e.getMessage().contains("touch action 9"), e.getMessage());
            assertThrows(RuntimeException.class, () -> c.input("{\"t\":\"nope\"}"));
        }
        PlayrackClient closed = PlayrackClient.playLink(BASE, REVOKED, "jvm-test-device-00000004", r);
        closed.close();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.touch(0, 0, 0f, 0f));
    }
}
