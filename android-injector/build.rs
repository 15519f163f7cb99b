//! With the `x264` feature: compiles the libx264 shim (csrc/x264_slices.c) and links Debian's
//! libx264. Without it there is nothing to build.
fn main() {
    println!("cargo:rerun-if-changed=csrc/x264_slices.c");
    #[cfg(feature = "x264")]
    {
        cc::Build::new()
            .file("csrc/x264_slices.c")
            .warnings(true)
            .compile("playrack_x264_slices");
        println!("cargo:rustc-link-lib=x264");
    }
}
