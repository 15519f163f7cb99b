// The AAR's build where an Android SDK and NDK exist (Android Studio, CI with the SDK): one
// library module, `android`, whose sources are the Maven modules' own (the facade in
// java/src/main/java and the glue in android/src/main/java) and whose native libraries are
// libplayrack built per ABI by `cargo ndk` (see android/build.gradle.kts and the README).
// Maven (pom.xml) builds and tests the same sources on a host JVM, where there is no SDK.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "playrack-sdk"
include(":android")
