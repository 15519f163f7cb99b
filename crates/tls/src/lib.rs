//! TLS for every Playrack service that crosses a network.
//!
//! - [`ServerTls`]: a certificate chain and its key, read from PEM files, as a rustls server
//!   configuration; [`serve`] runs an axum router over plain TCP or over TLS with the same
//!   graceful shutdown (axum-server does the accepting: each handshake in its own task with a
//!   deadline, so a slow client never holds up the accept loop).
//! - [`client_config`]: what a client trusts — the system's roots plus, when given, an operator's
//!   own CA — and, when given, the client certificate it presents (for a proxy that asks for
//!   one). Node agents use it to dial the controller (`wss://`), the portal to call it.
//!
//! All of it runs on rustls with *ring*, the provider reqwest's rustls already brings: one crypto
//! stack for TLS (str0m's DTLS keeps its own).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How long a client may take over its TLS handshake.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What went wrong reading certificates or keys: each message names the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading {what} {path}: {source} (give a PEM file)")]
    Pem {
        what: &'static str,
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("{path} holds no certificate (expected a PEM file with `BEGIN CERTIFICATE` blocks)")]
    NoCertificate { path: PathBuf },
    #[error("the certificate or key is not usable: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("a CA certificate in {path} is not usable: {source}")]
    BadCa {
        path: PathBuf,
        source: rustls::Error,
    },
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in a PEM file, in order (a chain: the leaf first).
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |source| TlsError::Pem {
        what: "the certificates",
        path: path.to_owned(),
        source,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|source| TlsError::Pem {
        what: "the private key",
        path: path.to_owned(),
        source,
    })
}

/// A listener's certificate chain and key.
#[derive(Clone)]
pub struct ServerTls {
    config: axum_server::tls_rustls::RustlsConfig,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerTls")
    }
}

impl ServerTls {
    /// Reads `cert` (the chain, leaf first) and `key`, and checks that they belong together.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<ServerTls, TlsError> {
        let chain = read_certificates(cert)?;
        let key = read_private_key(key)?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        // HTTP/1.1 only: WebSockets (signaling, the agents' link) upgrade an HTTP/1.1 connection.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls {
            config: axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config)),
        })
    }
}

/// Serves `app` on `listener` — over TLS when `tls` is given — until `shutdown` completes, then
/// lets requests in flight finish (callers bound that wait). Handlers see the peer's address
/// through `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let Some(tls) = tls else {
        return axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
    };
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(None);
    });
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls.config)
        .handshake_timeout(HANDSHAKE_TIMEOUT);
    axum_server::from_tcp(listener.into_std()?)?
        .acceptor(acceptor)
        .handle(handle)
        .serve(service)
        .await
}

/// A client's TLS configuration: the system's trusted roots, plus the CAs in `extra_ca` (a PEM
/// file) when given; with `identity` (certificate chain, key), the client certificate presented
/// to servers that ask for one.
pub fn client_config(
    extra_ca: Option<&Path>,
    identity: Option<(&Path, &Path)>,
) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::debug!("system certificate store: {e}");
    }
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = extra_ca {
        for cert in read_certificates(path)? {
            roots.add(cert).map_err(|source| TlsError::BadCa {
                path: path.to_owned(),
                source,
            })?;
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    Ok(match identity {
        Some((cert, key)) => {
            builder.with_client_auth_cert(read_certificates(cert)?, read_private_key(key)?)?
        }
        None => builder.with_no_client_auth(),
    })
}
