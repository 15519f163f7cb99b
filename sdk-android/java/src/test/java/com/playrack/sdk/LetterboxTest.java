package com.playrack.sdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The view ↔ video arithmetic, without a stack. */
class LetterboxTest {
    @Test
    void aPortraitVideoInALandscapeViewHasBarsLeftAndRight() {
        Letterbox b = Letterbox.fit(1920, 1080, 360, 640);
        assertEquals("607x1080+656+0", b.toString());
        assertArrayEquals(new float[] {0.5f, 0.5f}, b.toVideo(656 + 303.5f, 540f), 1e-6f);
        assertFalse(b.contains(100, 540));
        assertTrue(b.contains(960, 540));
    }

    @Test
    void aLandscapeVideoInAPortraitViewHasBarsAboveAndBelow() {
        Letterbox b = Letterbox.fit(1080, 2400, 1280, 720);
        assertEquals("1080x607+0+896", b.toString());
        assertArrayEquals(new float[] {0f, 0f}, b.toVideo(0, 896), 1e-6f);
    }

    @Test
    void pointsOnTheBarsClampToTheVideosEdge() {
        Letterbox b = Letterbox.fit(1000, 1000, 100, 50);
        assertArrayEquals(new float[] {1f, 0f}, b.toVideo(5000, -40), 1e-6f);
        assertArrayEquals(new float[] {0f, 1f}, b.toVideo(-1, 999), 1e-6f);
    }

    @Test
    void theSameAspectFillsTheView() {
        assertEquals("720x1280+0+0", Letterbox.fit(720, 1280, 360, 640).toString());
    }

    @Test
    void noSizeYetIsEmpty() {
        assertTrue(Letterbox.fit(0, 100, 360, 640).isEmpty());
        assertTrue(Letterbox.fit(100, 100, 0, 640).isEmpty());
        assertNull(Letterbox.fit(100, 100, 0, 0).toVideo(1, 1));
        assertFalse(Letterbox.fit(-5, 100, 10, 10).contains(0, 0));
    }

    @Test
    void hugeSizesDoNotOverflow() {
        Letterbox b = Letterbox.fit(Integer.MAX_VALUE, Integer.MAX_VALUE / 2, 65535, 65535);
        assertEquals(Integer.MAX_VALUE / 2, b.width);
        assertEquals(Integer.MAX_VALUE / 2, b.height);
    }
}
