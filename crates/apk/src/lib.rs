//! APK inspection (filled in by the APK parser work).
