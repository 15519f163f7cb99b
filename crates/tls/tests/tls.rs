//! A router served over TLS with a test CA: clients that trust the CA get through, others are
//! refused; bad PEM files are errors that name the file; shutdown ends the server.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use playrack_test_support::tls::TestCa;
use playrack_tls::{ServerTls, TlsError, client_config, serve};

fn app() -> axum::Router {
    axum::Router::new().route(
        "/who",
        axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
            peer.ip().to_string()
        }),
    )
}

fn client(cfg: rustls::ClientConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(cfg)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_client_that_trusts_the_ca_gets_through_and_one_that_does_not_is_refused() {
    let ca = TestCa::new("Playrack test CA");
    let server = ca.server("server", &["localhost", "127.0.0.1"]);
    let tls = ServerTls::from_pem_files(&server.cert, &server.key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app(), Some(tls), async {
        let _ = stopped.await;
    }));

    for host in ["localhost", "127.0.0.1"] {
        let trusted = client(client_config(Some(&ca.ca_file), None).unwrap());
        let body = trusted
            .get(format!("https://{host}:{port}/who"))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "127.0.0.1", "the handler sees the peer's address");
    }

    let untrusted = client(client_config(None, None).unwrap());
    let err = untrusted
        .get(format!("https://localhost:{port}/who"))
        .send()
        .await
        .expect_err("a certificate from an unknown CA must be refused");
    let chain = format!("{:?}", err);
    assert!(chain.contains("UnknownIssuer"), "{chain}");

    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/who"))
        .send()
        .await;
    assert!(
        plain.map(|r| !r.status().is_success()).unwrap_or(true),
        "plain HTTP must not be served on a TLS port"
    );

    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .expect("the server stops after shutdown")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn without_tls_the_same_router_is_served_over_plain_tcp() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app(), None, async {
        let _ = stopped.await;
    }));
    let body = reqwest::get(format!("http://{addr}/who"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "127.0.0.1");
    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[test]
fn bad_files_are_errors_that_name_the_file() {
    let ca = TestCa::new("Playrack test CA");
    let a = ca.server("a", &["localhost"]);
    let b = ca.server("b", &["localhost"]);
    let dir = tempfile::tempdir().unwrap();

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let e = ServerTls::from_pem_files(&empty, &a.key).unwrap_err();
    assert!(matches!(e, TlsError::NoCertificate { .. }), "{e}");
    assert!(e.to_string().contains("empty.pem"), "{e}");

    let missing = dir.path().join("missing.key");
    let e = ServerTls::from_pem_files(&a.cert, &missing).unwrap_err();
    assert!(e.to_string().contains("missing.key"), "{e}");

    let e = ServerTls::from_pem_files(&a.cert, &empty).unwrap_err();
    assert!(e.to_string().contains("private key"), "{e}");

    let e = ServerTls::from_pem_files(&a.cert, &b.key).unwrap_err();
    assert!(
        matches!(e, TlsError::Rustls(_)),
        "a key that is not the certificate's: {e}"
    );

    let e = client_config(Some(&empty), None).unwrap_err();
    assert!(e.to_string().contains("empty.pem"), "{e}");
}
