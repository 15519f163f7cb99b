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
    static class Recorder implements PlayrackClient.Listener {
        final BlockingQueue<String> events = new ArrayBlockingQueue<>(1024);
        final BlockingQueue<byte[]> video = new ArrayBlockingQueue<>(512);
        volatile int audio;
        volatile int keyframes;

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
            if (keyframe) {
                keyframes++;
            }
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
            assertTrue(c.text("hi"));
            int keyframes = r.keyframes;
            c.requestKeyframe();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (r.keyframes == keyframes && System.nanoTime() < end) {
                r.video.poll(100, TimeUnit.MILLISECONDS);
            }
            assertTrue(r.keyframes > keyframes, "a key frame follows the request");
            c.leave();
            assertEquals("state ended USER_LEFT", r.await("state ended", 30));
        }
    }

    @Test
    void aSecondPlayerWaitsInLineThenPlays() throws Exception {
        Recorder first = new Recorder();
        Recorder second = new Recorder();
        try (PlayrackClient a = PlayrackClient.playLink(BASE, LINK, "jvm-test-device-00000011", first)) {
            first.await("state playing", 60);
            // the stack's one slot is taken: the next player is told its place in line
            try (PlayrackClient b = PlayrackClient.playLink(BASE, LINK, "jvm-test-device-00000012", second)) {
                assertEquals("queue 1 1", second.await("queue ", 30));
                a.leave();
                first.await("state ended", 30);
                second.await("state playing", 90);
                b.leave();
                second.await("state ended", 30);
            }
        }
    }

    /** Live JNI global references of this JVM, from a heap dump (HotSpot). */
    static int jniGlobals() throws Exception {
        java.nio.file.Path dump = java.nio.file.Files.createTempFile("playrack", ".hprof");
        java.nio.file.Files.delete(dump);
        try {
            var bean = java.lang.management.ManagementFactory.getPlatformMXBean(
                    com.sun.management.HotSpotDiagnosticMXBean.class);
            bean.dumpHeap(dump.toString(), true);
            return Hprof.countJniGlobals(java.nio.file.Files.readAllBytes(dump));
        } finally {
            java.nio.file.Files.deleteIfExists(dump);
        }
    }

    /** This process's resident memory, kB (Linux). */
    static long rssKb() throws Exception {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return fail("no VmRSS");
    }

    /** Twenty plays, each to playing and left: no global reference and no more than 64 MB of RSS stay behind. */
    @Test
    void playAndLeaveCyclesLeakNothing() throws Exception {
        int cycles = Integer.parseInt(System.getenv().getOrDefault("PLAYRACK_JVM_CYCLES", "20"));
        Runnable cycle = () -> {
            Recorder r = new Recorder();
            try (PlayrackClient c = PlayrackClient.playLink(BASE, LINK, "jvm-test-device-00000021", r)) {
                r.await("state playing", 60);
                c.leave();
                r.await("state ended", 30);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        cycle.run(); // the first play's one-time allocations (runtime, TLS, decoder tables)
        System.gc();
        int globals = jniGlobals();
        long rss = rssKb();
        for (int i = 0; i < cycles; i++) {
            cycle.run();
        }
        System.gc();
        int after = jniGlobals();
        assertTrue(after <= globals, "JNI global references grew from " + globals + " to " + after + " over " + cycles + " cycles");
        long grown = rssKb() - rss;
        assertTrue(grown < 64 * 1024, "RSS grew by " + grown + " kB over " + cycles + " cycles");
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
            RuntimeException empty = assertThrows(RuntimeException.class, () -> c.text(""));
            assertNotNull(empty.getMessage());
        }
        PlayrackClient closed = PlayrackClient.playLink(BASE, REVOKED, "jvm-test-device-00000004", r);
        closed.close();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.touch(0, 0, 0f, 0f));
    }

    @Test
    void aListenerMayCloseItsClient() throws Exception {
        BlockingQueue<String> heard = new ArrayBlockingQueue<>(16);
        PlayrackClient[] self = new PlayrackClient[1];
        java.util.concurrent.CountDownLatch created = new java.util.concurrent.CountDownLatch(1);
        PlayrackClient.Listener closer = new Recorder() {
            @Override
            public void onError(String code, String message) {
                try {
                    created.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                // on the play's own thread: must not wait for itself
                self[0].close();
                heard.offer("closed " + code);
            }
        };
        self[0] = PlayrackClient.playLink(BASE, REVOKED, "jvm-test-device-00000005", closer);
        created.countDown();
        String e = heard.poll(30, TimeUnit.SECONDS);
        assertEquals("closed LINK_REVOKED", e);
        assertThrows(IllegalStateException.class, () -> self[0].stats());
    }
}
