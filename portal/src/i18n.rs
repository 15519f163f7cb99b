//! The portal's languages: the message catalogues (Fluent files under `portal/locales/<tag>/`,
//! compiled into the binary by `fluent-templates`, plurals by each language's rules), and which
//! language a request gets — the `lang` query a language switcher link carries (kept in the
//! `playrack_lang` cookie), else the cookie, else the best match of the browser's
//! `Accept-Language` (negotiated by `fluent-langneg`), else English.
//!
//! A key missing in a catalogue falls back to English; a key missing everywhere renders as
//! `Unknown localization key: "…"`, and tests check both catalogues carry the same keys and the
//! pages' keys exist.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, header};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No bidi isolation marks around arguments: none of our languages is right-to-left,
        // and the marks would end up in attributes and tests.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The cookie the language switcher sets.
pub const COOKIE: &str = "playrack_lang";

/// A language the portal speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    ZhCn,
}

static EN: LanguageIdentifier = langid!("en");
static ZH_CN: LanguageIdentifier = langid!("zh-CN");

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// The BCP 47 tag (`<html lang>`, the switcher's `?lang=`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language's own name, for the switcher.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::ZhCn => "中文",
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::En => &EN,
            Lang::ZhCn => &ZH_CN,
        }
    }

    /// A tag as the switcher sends it (`en`, `zh-CN`; any case), if the portal speaks it.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(tag.trim()))
    }

    /// The message `key`.
    pub fn t(self, key: &str) -> String {
        LOCALES.lookup(self.id(), key)
    }

    /// The message `key` with arguments (numbers are formatted and pluralised by the language).
    pub fn t_args(self, key: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
            .collect();
        LOCALES.lookup_with_args(self.id(), key, &args)
    }

    /// The language for a request: `?lang=`, else the cookie, else `Accept-Language`.
    pub fn of_request(headers: &HeaderMap, query: Option<&str>) -> Lang {
        if let Some(l) = query.and_then(Lang::from_tag) {
            return l;
        }
        if let Some(l) = cookie(headers).and_then(Lang::from_tag) {
            return l;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::accepted)
            .unwrap_or_default()
    }

    /// The best of the portal's languages for an `Accept-Language` value (any Chinese is
    /// served as zh-CN, the only Chinese catalogue).
    pub fn accepted(value: &str) -> Lang {
        let wanted = fluent_langneg::accepted_languages::parse(value);
        let available: Vec<LanguageIdentifier> = vec![EN.clone(), ZH_CN.clone()];
        let chosen = fluent_langneg::negotiate_languages(
            &wanted,
            &available,
            Some(&EN),
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        match chosen.first() {
            Some(l) if l.language.as_str() == "zh" => Lang::ZhCn,
            _ => Lang::En,
        }
    }

    /// The `Set-Cookie` value that keeps this language for the next pages.
    pub fn cookie_header(self) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            self.tag()
        ))
        .expect("a tag is a valid header value")
    }
}

/// Marks a page whose language follows the request: caches keep one copy per language.
pub fn vary(resp: &mut axum::response::Response) {
    resp.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_language_we_speak() {
        assert_eq!(Lang::accepted("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn);
        assert_eq!(Lang::accepted("zh-TW"), Lang::ZhCn);
        assert_eq!(Lang::accepted("zh"), Lang::ZhCn);
        assert_eq!(Lang::accepted("fr-FR,en;q=0.5,zh;q=0.4"), Lang::En);
        assert_eq!(Lang::accepted("de"), Lang::En);
        assert_eq!(Lang::accepted(""), Lang::En);
        assert_eq!(Lang::accepted(";;;q=x,,"), Lang::En);
    }

    #[test]
    fn the_query_beats_the_cookie_which_beats_the_browser() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN"));
        assert_eq!(Lang::of_request(&h, None), Lang::ZhCn);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; playrack_lang=en"),
        );
        assert_eq!(Lang::of_request(&h, None), Lang::En);
        assert_eq!(Lang::of_request(&h, Some("zh-cn")), Lang::ZhCn);
        assert_eq!(
            Lang::of_request(&h, Some("klingon")),
            Lang::En,
            "unknown: the cookie"
        );
    }

    #[test]
    fn plurals_follow_each_language() {
        let n = |v: u32| [("n", FluentValue::from(v))];
        assert_eq!(Lang::En.t_args("duration-minutes", &n(1)), "1 minute");
        assert_eq!(Lang::En.t_args("duration-minutes", &n(10)), "10 minutes");
        assert_eq!(Lang::ZhCn.t_args("duration-minutes", &n(10)), "10 分钟");
        assert_eq!(Lang::ZhCn.t("play"), "开始试玩");
    }

    #[test]
    fn both_catalogues_carry_the_same_keys() {
        let keys = |tag: &str| -> Vec<String> {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("locales")
                .join(tag);
            let mut keys = Vec::new();
            for f in std::fs::read_dir(dir).unwrap() {
                let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
                keys.extend(text.lines().filter_map(|l| {
                    let (k, _) = l.split_once(" =")?;
                    (!k.starts_with([' ', '#'])).then(|| k.to_owned())
                }));
            }
            keys.sort();
            keys
        };
        let en = keys("en");
        assert!(en.len() > 50, "{en:?}");
        assert_eq!(en, keys("zh-CN"));
    }
}
