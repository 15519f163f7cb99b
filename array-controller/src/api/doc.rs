//! The OpenAPI document's cross-cutting parts, written once here rather than on each handler:
//! the security schemes and which one each path takes ([`access`]), and the problem+json
//! answers every operation can give (a refused credential, a missing object, a bad body, the
//! rate limit, a database that is away) beside the answers its handler documents.
//!
//! The authorization matrix test walks this document: every operation it lists is called with
//! every kind of credential, so a path that takes a credential other than the one named here
//! fails that test.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Content, HttpMethod, OpenApi, Ref, RefOr, ResponseBuilder, header::HeaderBuilder,
};

/// The credential a path takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: sign-in, link cards, acquire, a board's enrolment (its token is in the body).
    Public,
    /// A console session token (from `/v1/auth/login`) or an API key.
    Console,
    /// The play key `acquire` returned for this ticket or session.
    PlayKey,
    /// A board's credential (from enrolment).
    Board,
}

impl Access {
    /// The name of its security scheme in the document.
    pub fn scheme(self) -> Option<&'static str> {
        match self {
            Access::Public => None,
            Access::Console => Some("console"),
            Access::PlayKey => Some("play_key"),
            Access::Board => Some("board"),
        }
    }
}

/// Which credential `path` (a template, as in the document) takes.
pub fn access(path: &str) -> Access {
    const PUBLIC: [&str; 8] = [
        "/v1/auth/login",
        "/v1/play/acquire",
        "/v1/play/saves",
        "/v1/play/watch/{code}",
        "/v1/play/links/{code}",
        "/v1/play/links/{code}/icon",
        "/v1/play/links/{code}/cta",
        "/v1/agents/enrol",
    ];
    if PUBLIC.contains(&path) || path == "/v1/uploads" {
        Access::Public
    } else if path.starts_with("/v1/play/") {
        Access::PlayKey
    } else if path.starts_with("/v1/agent/") || path == "/v1/agents/connect" {
        Access::Board
    } else {
        Access::Console
    }
}

/// The document as served: with the security schemes, each operation's security, the problem
/// answers and the bounds of unsigned integers.
pub fn finish(mut doc: OpenApi) -> serde_json::Value {
    add_security_and_problems(&mut doc);
    let mut value = serde_json::to_value(&doc).expect("the document serializes");
    bound_unsigned(&mut value);
    value
}

fn add_security_and_problems(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    let bearer = |what: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(what))
                .build(),
        )
    };
    components.add_security_scheme(
        "console",
        bearer("A session token from `POST /v1/auth/login`, or an API key (`prk_…`)"),
    );
    components.add_security_scheme(
        "play_key",
        bearer("The play key `POST /v1/play/acquire` answered with, for that ticket or session"),
    );
    components.add_security_scheme(
        "board",
        bearer("A board's credential, from `POST /v1/agents/enrol`"),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let access = access(path);
        let has_params = path.contains('{');
        for method in [
            HttpMethod::Get,
            HttpMethod::Put,
            HttpMethod::Post,
            HttpMethod::Delete,
            HttpMethod::Patch,
            HttpMethod::Head,
            HttpMethod::Options,
        ] {
            if let Some(op) = operation(item, &method) {
                finish_operation(op, &method, access, has_params);
            }
        }
    }
}

/// Unsigned integers get the range their type takes, in standard formats: utoipa's strict
/// `int32` for a `u32` would tell clients it ends at 2³¹ − 1 (the server takes more), and its
/// other mode writes a format nobody knows (`u-int32`).
fn bound_unsigned(doc: &mut serde_json::Value) {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                let bound = match map.get("format").and_then(|f| f.as_str()) {
                    Some("u-int8") => Some(("int32", u64::from(u8::MAX))),
                    Some("u-int16") => Some(("int32", u64::from(u16::MAX))),
                    Some("u-int32") => Some(("int64", u64::from(u32::MAX))),
                    Some("u-int64" | "u-int128" | "u-size") => Some(("int64", i64::MAX as u64)),
                    _ => None,
                };
                if let Some((format, max)) = bound {
                    map.insert("format".into(), format.into());
                    map.entry("minimum").or_insert(0.into());
                    map.entry("maximum").or_insert(max.into());
                }
                map.values_mut().for_each(walk);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(doc);
}

fn operation<'a>(
    item: &'a mut utoipa::openapi::PathItem,
    method: &HttpMethod,
) -> Option<&'a mut Operation> {
    match method {
        HttpMethod::Get => item.get.as_mut(),
        HttpMethod::Put => item.put.as_mut(),
        HttpMethod::Post => item.post.as_mut(),
        HttpMethod::Delete => item.delete.as_mut(),
        HttpMethod::Patch => item.patch.as_mut(),
        HttpMethod::Head => item.head.as_mut(),
        HttpMethod::Options => item.options.as_mut(),
        _ => None,
    }
}

fn finish_operation(op: &mut Operation, method: &HttpMethod, access: Access, has_params: bool) {
    op.security = Some(match access.scheme() {
        Some(name) => vec![SecurityRequirement::new::<_, _, &str>(name, [])],
        None => vec![SecurityRequirement::default()],
    });
    let takes_input = op.request_body.is_some() || op.parameters.is_some();
    let mut add = |status: &str, why: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(problem(status, why)));
    };
    if access != Access::Public {
        add(
            "401",
            "No credential, or one that is unknown, revoked or expired",
        );
        add("403", "The credential does not allow this");
    }
    if has_params || takes_input {
        add(
            "404",
            "No such object, named in the path or referenced by a parameter or the body (or one the caller may not see)",
        );
    }
    if !matches!(
        method,
        HttpMethod::Get | HttpMethod::Head | HttpMethod::Options
    ) {
        add(
            "409",
            "The request conflicts with the object's state; `code` says how",
        );
    }
    if takes_input {
        add(
            "422",
            "A parameter or the body is invalid; `detail` says what to fix",
        );
    }
    if op.request_body.is_some() {
        add("413", "The body is too large");
        add(
            "415",
            "The body's content type is not the one this operation takes",
        );
    }
    add(
        "429",
        "Too many requests from this address; retry after `Retry-After` seconds",
    );
    add(
        "503",
        "The database is unavailable or the request collided with another; retry after `Retry-After` seconds",
    );
    // Every problem answer, documented here or on the handler, is application/problem+json.
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(r) = response
            && let Some(content) = r.content.shift_remove("application/json")
        {
            if is_problem(&content) {
                r.content.insert("application/problem+json".into(), content);
            } else {
                r.content.insert("application/json".into(), content);
            }
        }
    }
}

fn is_problem(content: &RefOr<Content>) -> bool {
    matches!(content, RefOr::T(c) if matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")))
}

fn problem(status: &str, why: &str) -> utoipa::openapi::Response {
    let mut response = ResponseBuilder::new().description(why).content(
        "application/problem+json",
        Content::new(Some(Ref::from_schema_name("Problem"))),
    );
    if matches!(status, "429" | "503") {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(utoipa::openapi::schema::Object::with_type(
                    utoipa::openapi::schema::Type::Integer,
                )))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    response.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_path_takes_its_credential() {
        assert_eq!(access("/v1/auth/login"), Access::Public);
        assert_eq!(access("/v1/play/links/{code}"), Access::Public);
        assert_eq!(access("/v1/play/tickets/{id}/events"), Access::PlayKey);
        assert_eq!(access("/v1/agent/archives/{id}"), Access::Board);
        assert_eq!(access("/v1/agents/connect"), Access::Board);
        assert_eq!(access("/v1/agents/enrol"), Access::Public);
        assert_eq!(access("/v1/games/{id}"), Access::Console);
    }

    #[test]
    fn every_operation_names_its_security_and_answers_problems() {
        let json = super::super::openapi();
        let schemes = &json["components"]["securitySchemes"];
        for scheme in ["console", "play_key", "board"] {
            assert_eq!(schemes[scheme]["scheme"], "bearer", "{schemes}");
        }
        let mut seen = 0;
        for (path, item) in json["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                seen += 1;
                let security = op["security"].as_array().unwrap();
                assert_eq!(security.len(), 1, "{method} {path}");
                let rate = &op["responses"]["429"]["content"]["application/problem+json"];
                assert!(rate.is_object(), "{method} {path} documents no 429 problem");
                for (status, r) in op["responses"].as_object().unwrap() {
                    assert!(
                        !(status.starts_with('4') || status.starts_with('5'))
                            || r["content"].get("application/json").is_none(),
                        "{method} {path} documents {status} as plain JSON"
                    );
                }
            }
        }
        assert!(seen > 80, "only {seen} operations");
        let cap = &json["components"]["schemas"]["UpdateRoom"]["properties"]["instance_cap"];
        assert_eq!(cap["maximum"], u32::MAX, "{cap}");
    }
}
