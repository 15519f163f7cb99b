//! The PC client's command line, as a player meets it: `--help` says what it takes, and a
//! URL that is not a try-play link is refused with a message saying what one looks like,
//! before any window or network.

use std::process::Command;

fn play(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_playrack-play"))
        .args(args)
        .output()
        .expect("playrack-play runs")
}

#[test]
fn help_names_the_link_and_the_probe() {
    let out = play(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--probe"), "{text}");
    assert!(text.contains("--headless"), "{text}");
}

#[test]
fn a_url_that_is_not_a_link_says_what_one_is() {
    for bad in [
        "ftp://example.com/play/abc",
        "https://example.com/games/abc",
        "play",
    ] {
        let out = play(&["--headless", bad]);
        assert!(!out.status.success(), "{bad} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("https://host/play/<code>"), "{bad}: {err}");
        assert!(out.stdout.is_empty(), "{bad}: nothing on stdout");
    }
}
