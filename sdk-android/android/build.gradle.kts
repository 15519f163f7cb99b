// com.playrack.sdk as an AAR: the Java facade and PlayrackView, with libplayrack.so for each
// ABI. `cargoNdk` runs before every build: cargo-ndk cross-compiles sdk-android (release) for
// the ABIs below into build/rustJniLibs/<abi>/libplayrack.so, which the AAR packs as jniLibs.
plugins {
    id("com.android.library")
}

android {
    namespace = "com.playrack.sdk"
    compileSdk = 34
    ndkVersion = "27.2.12479018"

    defaultConfig {
        // MediaCodec's asynchronous callbacks and AudioTrack.Builder need API 23
        minSdk = 23
        consumerProguardFiles("consumer-rules.pro")
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets["main"].apply {
        java.srcDirs("src/main/java", "../java/src/main/java")
        jniLibs.srcDirs(layout.buildDirectory.dir("rustJniLibs"))
    }
}

val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

val cargoNdk by tasks.registering(Exec::class) {
    description = "Builds libplayrack for each ABI with cargo-ndk"
    workingDir = rootProject.projectDir.parentFile
    val out = layout.buildDirectory.dir("rustJniLibs").get().asFile
    commandLine(
        listOf("cargo", "ndk") + abis.flatMap { listOf("-t", it) } +
            listOf("--platform", "23", "-o", out.path, "build", "--release", "-p", "sdk-android", "--lib"),
    )
}

tasks.named("preBuild") { dependsOn(cargoNdk) }
