//! How a publisher puts a try-play link on their own site: an `<iframe>` of the player page
//! (only on the sites the link names: its `frame-ancestors`) or the H5 SDK on their page. The
//! snippets are shown in the links table, ready to copy.

use super::copy_button;
use crate::html::{Markup, Text, html};
use crate::i18n::Lang;
use playrack_wire::api::Link;

/// What the `<iframe>` must allow for the player page to play as it does on its own: autoplay
/// with sound, full screen, gamepads, the clipboard, and (when the player agrees) the motion
/// sensors and the position.
const IFRAME_ALLOW: &str = "autoplay; fullscreen; gamepad; clipboard-read; clipboard-write; \
accelerometer; gyroscope; geolocation";

/// The `<iframe>` snippet for a link's player page at `url`.
pub fn iframe(url: &str) -> String {
    format!(
        "<iframe src=\"{url}\" width=\"405\" height=\"720\" allow=\"{IFRAME_ALLOW}\" \
         allowfullscreen style=\"border:0\"></iframe>"
    )
}

/// The H5 SDK snippet for a link: a container, the SDK from the portal, a play on a tap.
pub fn sdk(portal: &str, code: &str) -> String {
    format!(
        "<div id=\"game\" style=\"width:405px;height:720px\"></div>\n\
         <script type=\"module\">\n\
         \x20 import {{ createPlayer }} from \"{portal}/assets/sdk/playrack.js\";\n\
         \x20 const player = createPlayer(document.getElementById(\"game\"), {{ apiBase: \"{portal}\" }});\n\
         \x20 document.getElementById(\"game\").addEventListener(\"click\", () => player.play({{ link: \"{code}\" }}), {{ once: true }});\n\
         </script>"
    )
}

/// The snippets of one link, folded: the iframe where the link names sites (or a note that
/// it names none), and the SDK's.
pub fn snippets(lang: Lang, portal: &str, url: &str, link: &Link) -> Markup {
    let frame = iframe(url);
    let script = sdk(portal, &link.code);
    html! {
        details class="embed" data-testid="embed" {
            summary { (lang.t("em-summary")) }
            @if link.embed_origins.is_empty() {
                p class="muted" data-testid="embed-none" { (lang.t("em-no-sites")) }
            } @else {
                p class="muted" {
                    (lang.t("em-sites")) " "
                    @for (i, o) in link.embed_origins.iter().enumerate() {
                        @if i > 0 { ", " }
                        code data-testid="embed-origin" { (Text(o)) }
                    }
                }
                pre data-testid="embed-iframe" { code { (Text(&frame)) } }
                (copy_button(&frame, &lang.t("em-copy-iframe"), "copy-iframe"))
            }
            p class="muted" { (lang.t("em-sdk")) }
            pre data-testid="embed-sdk" { code { (Text(&script)) } }
            (copy_button(&script, &lang.t("em-copy-sdk"), "copy-sdk"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_iframe_allows_what_the_player_uses_and_the_sdk_snippet_plays_the_link() {
        let f = iframe("https://play.example/play/AbC");
        assert!(
            f.starts_with("<iframe src=\"https://play.example/play/AbC\""),
            "{f}"
        );
        for feature in [
            "autoplay",
            "fullscreen",
            "gamepad",
            "clipboard-write",
            "geolocation",
        ] {
            assert!(f.contains(feature), "{feature}");
        }
        let s = sdk("https://play.example", "AbC");
        assert!(
            s.contains("from \"https://play.example/assets/sdk/playrack.js\""),
            "{s}"
        );
        assert!(s.contains("player.play({ link: \"AbC\" })"), "{s}");
    }
}
