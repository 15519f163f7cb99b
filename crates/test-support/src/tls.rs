//! A certificate authority made at test time: its certificate, and server and client
//! certificates it signs, written as PEM files in a temporary directory for the binaries'
//! `--tls-*` flags.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A test CA and the files it wrote.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: tempfile::TempDir,
    /// The CA's certificate (PEM): what clients are told to trust.
    pub ca_file: PathBuf,
}

/// A certificate chain and its key, as files.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, issuer.pem()).unwrap();
        TestCa {
            issuer,
            dir,
            ca_file,
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses), signed by this CA.
    pub fn server(&self, file_stem: &str, names: &[&str]) -> Issued {
        self.issue(file_stem, names, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate for `name`, signed by this CA.
    pub fn client(&self, file_stem: &str, name: &str) -> Issued {
        self.issue(file_stem, &[name], ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(&self, file_stem: &str, names: &[&str], usage: ExtendedKeyUsagePurpose) -> Issued {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let issued = Issued {
            cert: self.dir.path().join(format!("{file_stem}.pem")),
            key: self.dir.path().join(format!("{file_stem}.key")),
        };
        std::fs::write(&issued.cert, cert.pem()).unwrap();
        std::fs::write(&issued.key, key.serialize_pem()).unwrap();
        issued
    }
}

impl TestCa {
    /// A server certificate for the loopback names (`localhost`, `127.0.0.1`, `::1`), as the
    /// controller's configuration wants it.
    pub fn loopback_files(&self, file_stem: &str) -> array_controller::config::TlsFiles {
        let issued = self.server(file_stem, &["localhost", "127.0.0.1", "::1"]);
        array_controller::config::TlsFiles {
            cert: issued.cert,
            key: issued.key,
        }
    }

    /// A client configuration that trusts this CA (besides the system's roots).
    pub fn client_config(&self) -> std::sync::Arc<rustls::ClientConfig> {
        std::sync::Arc::new(playrack_tls::client_config(Some(&self.ca_file), None).unwrap())
    }
}
