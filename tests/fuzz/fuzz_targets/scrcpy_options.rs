//! The scrcpy server launch command (`CLASSPATH=… app_process / com.genymobile.scrcpy.Server
//! 4.1 key=value…`) that the virtual device parses from the shell command a host runs. Options
//! it accepts print back as a command line that parses to the same options (keys it does not
//! know are kept aside, as scrcpy's server warns about and skips them, and not printed).
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_scrcpy::options::parse_command_line;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut launch) = parse_command_line(text) else {
        return;
    };
    launch.options.unknown_keys.clear();
    let line = launch.options.command_line();
    let again = parse_command_line(&line).expect("a printed command line parses");
    assert_eq!(again.options, launch.options, "{line}");
});
