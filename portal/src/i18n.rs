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
    pub fn t_args(self, key: &str, args: &[(&str, FluentValue<'static>)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Owned((*k).to_owned()), v.clone()))
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

/// The English catalogues whose messages the console scripts show (see [`script_messages`]).
const SCRIPT_CATALOGUES: [&str; 2] = [
    include_str!("../locales/en/console.ftl"),
    include_str!("../locales/en/operator.ftl"),
];

/// Which of their messages travel to the scripts: every `js-…` one, and those a page and its
/// script say alike (deployment progress; a board's agent state and telemetry).
const SCRIPT_KEYS: [&str; 7] = [
    "js-",
    "deploy-state-",
    "volume-",
    "boards-",
    "op-agent-",
    "op-tele-mem-value",
    "op-tele-instances-value",
];

/// The words the console scripts show ([`SCRIPT_KEYS`] of [`SCRIPT_CATALOGUES`]), by key, in
/// `lang`, as a JSON object.
/// A message's arguments stay `{name}` placeholders for the script to fill in.
pub fn script_messages(lang: Lang) -> String {
    static CACHE: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| Lang::ALL.into_iter().map(script_messages_in).collect());
    let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
    CACHE[i].clone()
}

fn script_messages_in(lang: Lang) -> String {
    let mut out = serde_json::Map::new();
    for line in SCRIPT_CATALOGUES.iter().flat_map(|c| c.lines()) {
        let Some((key, value)) = line.split_once(" = ") else {
            continue;
        };
        if !SCRIPT_KEYS.iter().any(|p| key.starts_with(p)) {
            continue;
        }
        // Each `{ $name }` argument becomes the placeholder `{name}`.
        let args: Vec<(&str, FluentValue<'static>)> = value
            .split("{ $")
            .skip(1)
            .filter_map(|rest| rest.split_once(" }"))
            .map(|(name, _)| (name, FluentValue::from(format!("{{{name}}}"))))
            .collect();
        out.insert(key.to_owned(), lang.t_args(key, &args).into());
    }
    serde_json::Value::Object(out).to_string()
}

/// The language a query string's `lang=` names, if the portal speaks it.
pub fn lang_param(query: &str) -> Option<Lang> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::from_tag(v))
}

/// Middleware: a page asked for with the switcher's `?lang=` keeps that language for the next
/// pages (the `playrack_lang` cookie), whichever page it was.
pub async fn remember(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let chosen = req.uri().query().and_then(lang_param);
    let mut resp = next.run(req).await;
    if let Some(lang) = chosen {
        resp.headers_mut()
            .append(header::SET_COOKIE, lang.cookie_header());
    }
    resp
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
    fn every_key_the_pages_name_is_in_the_catalogue() {
        // String literals in the portal's source that look like message keys of the page
        // catalogues (keys made with `format!` are checked where they are made).
        // (The operator pages' `op-` keys are checked by their own test: `op-` also begins
        // some of their test ids.)
        const PREFIXES: [&str; 8] = [
            "tn-", "cp-", "em-", "rec-", "signin-", "page-", "failed-", "hist-",
        ];
        fn visit(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    visit(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    // Lines naming test ids are left out: ids look like keys.
                    let text: String = text
                        .lines()
                        .filter(|l| !l.contains("testid"))
                        .collect::<Vec<_>>()
                        .join("\n");
                    for lit in text.split('"').skip(1).step_by(2) {
                        let key = lit
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                        if key
                            && PREFIXES.iter().any(|pre| lit.starts_with(pre))
                            && !lit.ends_with('-')
                        {
                            out.push((p.display().to_string(), lit.to_owned()));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.len() > 100, "{}", found.len());
        // Each English message's arguments (a message asked for without them does not render).
        let mut args: HashMap<String, Vec<String>> = HashMap::new();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales/en");
        for f in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            let mut current = String::new();
            for line in text.lines() {
                if let Some((k, _)) = line.split_once(" =")
                    && !k.starts_with([' ', '#'])
                {
                    current = k.to_owned();
                }
                for rest in line.split("{ $").skip(1) {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    args.entry(current.clone()).or_default().push(name);
                }
            }
        }
        for (file, key) in found {
            let names = args.get(&key).cloned().unwrap_or_default();
            let given: Vec<(&str, FluentValue<'static>)> = names
                .iter()
                .map(|n| (n.as_str(), FluentValue::from(1)))
                .collect();
            for lang in Lang::ALL {
                let text = lang.t_args(&key, &given);
                assert!(
                    !text.starts_with("Unknown localization key"),
                    "{file}: {key} ({lang:?})"
                );
            }
        }
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
