/* A thin shim over Debian's libx264 for the virtual device's sliced encoder: it sets what
 * x264_param_parse cannot (the nalu_process callback) and hands each NAL to Rust as soon as
 * x264 finishes it, escaped (Annex-B), with the macroblocks it covers. Kept in C so the
 * Rust side needs no binding of x264_param_t, whose layout changes between x264 builds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <x264.h>

typedef void (*pr_nal_fn)(void *sink, const uint8_t *data, int len, int type, int first_mb,
                          int last_mb);

typedef struct {
    x264_t *h;
    x264_picture_t pic;
    int width, height;
    pr_nal_fn on_nal;
    void *sink;
    uint8_t *buf;
    int buf_len;
} pr_x264;

static void pr_nalu_process(x264_t *h, x264_nal_t *nal, void *opaque) {
    pr_x264 *e = (pr_x264 *)opaque;
    int need = nal->i_payload * 3 / 2 + 5 + 64;
    if (need > e->buf_len) {
        uint8_t *b = realloc(e->buf, need);
        if (!b) {
            return;
        }
        e->buf = b;
        e->buf_len = need;
    }
    x264_nal_encode(h, e->buf, nal);
    e->on_nal(e->sink, nal->p_payload, nal->i_payload, nal->i_type, nal->i_first_mb,
              nal->i_last_mb);
}

/* Opens an encoder: ultrafast + zerolatency (no B-frames, no lookahead, no frame threads),
 * Constrained Baseline, `slices` slices a frame, CBR at `kbps` with a VBV of 1.5 frames, and
 * a full refresh every `period` frames: an IDR, or with `intra_refresh` a column of intra
 * macroblocks sweeping the picture (a recovery point SEI where each sweep starts), so that no
 * frame is several times the size of the others and an IDR comes only first and when asked. */
pr_x264 *pr_x264_open(int width, int height, int fps, int kbps, int slices, int intra_refresh,
                      int period) {
    x264_param_t p;
    if (x264_param_default_preset(&p, "ultrafast", "zerolatency") < 0) {
        return NULL;
    }
    p.i_log_level = X264_LOG_ERROR;
    p.i_threads = 1;
    p.b_sliced_threads = 0;
    p.i_width = width;
    p.i_height = height;
    p.i_csp = X264_CSP_I420;
    p.i_fps_num = fps;
    p.i_fps_den = 1;
    p.i_slice_count = slices;
    p.b_intra_refresh = intra_refresh != 0;
    p.i_keyint_max = period > 0 ? period : fps * 10; /* with intra refresh: the sweep's */
    p.b_repeat_headers = 1;
    p.b_annexb = 1;
    p.rc.i_rc_method = X264_RC_ABR;
    p.rc.i_bitrate = kbps;
    p.rc.i_vbv_max_bitrate = kbps;
    p.rc.i_vbv_buffer_size = kbps * 3 / (2 * fps) > 0 ? kbps * 3 / (2 * fps) : 1;
    p.nalu_process = pr_nalu_process;
    if (x264_param_apply_profile(&p, "baseline") < 0) {
        return NULL;
    }
    pr_x264 *e = calloc(1, sizeof *e);
    if (!e) {
        return NULL;
    }
    e->h = x264_encoder_open(&p);
    if (!e->h) {
        free(e);
        return NULL;
    }
    e->width = width;
    e->height = height;
    x264_picture_init(&e->pic);
    e->pic.img.i_csp = X264_CSP_I420;
    e->pic.img.i_plane = 3;
    e->pic.opaque = e;
    return e;
}

/* Encodes one I420 frame; each NAL goes to `on_nal(sink, …)` before this returns, the first
 * before the last slice is encoded. The frame's size in bytes, or < 0 on an error. */
int pr_x264_encode(pr_x264 *e, const uint8_t *y, const uint8_t *u, const uint8_t *v,
                   int64_t pts, int force_key, pr_nal_fn on_nal, void *sink) {
    x264_nal_t *nals;
    int n;
    x264_picture_t out;
    e->on_nal = on_nal;
    e->sink = sink;
    e->pic.img.plane[0] = (uint8_t *)y;
    e->pic.img.plane[1] = (uint8_t *)u;
    e->pic.img.plane[2] = (uint8_t *)v;
    e->pic.img.i_stride[0] = e->width;
    e->pic.img.i_stride[1] = e->width / 2;
    e->pic.img.i_stride[2] = e->width / 2;
    e->pic.i_pts = pts;
    e->pic.i_type = force_key ? X264_TYPE_IDR : X264_TYPE_AUTO;
    return x264_encoder_encode(e->h, &nals, &n, &e->pic, &out);
}

/* Moves the rate (and the VBV with it, 1.5 frames) from the next frame on, without a key
 * frame. 0, or < 0 when x264 refuses. */
int pr_x264_set_kbps(pr_x264 *e, int kbps) {
    x264_param_t p;
    x264_encoder_parameters(e->h, &p);
    int fps = p.i_fps_num > 0 ? (int)(p.i_fps_num / (p.i_fps_den ? p.i_fps_den : 1)) : 60;
    p.rc.i_bitrate = kbps;
    p.rc.i_vbv_max_bitrate = kbps;
    p.rc.i_vbv_buffer_size = kbps * 3 / (2 * fps) > 0 ? kbps * 3 / (2 * fps) : 1;
    return x264_encoder_reconfig(e->h, &p);
}

/* The macroblocks of one frame (a slice whose last_mb is this − 1 ends the frame). */
int pr_x264_mbs(const pr_x264 *e) {
    return ((e->width + 15) / 16) * ((e->height + 15) / 16);
}

void pr_x264_close(pr_x264 *e) {
    if (e) {
        x264_encoder_close(e->h);
        free(e->buf);
        free(e);
    }
}
