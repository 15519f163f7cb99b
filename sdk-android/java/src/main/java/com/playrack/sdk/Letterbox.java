package com.playrack.sdk;

/**
 * Where a video of one size sits inside a view of another, keeping its aspect (centred, bars
 * on two sides), and where a point of the view falls on the video: the arithmetic every player
 * shares, kept free of any UI toolkit so it is tested on a plain JVM.
 */
public final class Letterbox {
    /** The video's rectangle in the view: left, top, width, height (pixels). */
    public final int left, top, width, height;

    private Letterbox(int left, int top, int width, int height) {
        this.left = left;
        this.top = top;
        this.width = width;
        this.height = height;
    }

    /** The largest rectangle of the video's aspect that fits a {@code viewWidth}×{@code viewHeight} view, centred. Empty when either size is not positive. */
    public static Letterbox fit(int viewWidth, int viewHeight, int videoWidth, int videoHeight) {
        if (viewWidth <= 0 || viewHeight <= 0 || videoWidth <= 0 || videoHeight <= 0) {
            return new Letterbox(0, 0, 0, 0);
        }
        // compare the aspects in 64 bits: view wider than the video → bars left and right
        long wide = (long) viewWidth * videoHeight, tall = (long) viewHeight * videoWidth;
        int w = wide > tall ? (int) (tall / videoHeight) : viewWidth;
        int h = wide > tall ? viewHeight : (int) (wide / videoWidth);
        return new Letterbox((viewWidth - w) / 2, (viewHeight - h) / 2, w, h);
    }

    /** Whether the rectangle has no area (the view or the video has no size yet). */
    public boolean isEmpty() {
        return width == 0 || height == 0;
    }

    /**
     * A point of the view as 0–1 of the video ({@code {x, y}}), clamped to its edges (a finger
     * that slides onto a bar stays on the game's edge); null while the rectangle is empty.
     */
    public float[] toVideo(float viewX, float viewY) {
        if (isEmpty()) {
            return null;
        }
        float x = (viewX - left) / width, y = (viewY - top) / height;
        return new float[] {clamp(x), clamp(y)};
    }

    /** Whether a point of the view is on the video (not on a bar). */
    public boolean contains(float viewX, float viewY) {
        return !isEmpty() && viewX >= left && viewX < left + width && viewY >= top && viewY < top + height;
    }

    private static float clamp(float v) {
        return Float.isNaN(v) ? 0f : Math.max(0f, Math.min(1f, v));
    }

    @Override
    public String toString() {
        return width + "x" + height + "+" + left + "+" + top;
    }
}
