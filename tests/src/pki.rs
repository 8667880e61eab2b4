//! A test PKI made by the `openssl` command at test time: a P-256 CA, server
//! certificates (good, from another CA, expired, for another name, and on demand for an
//! address), a client certificate, and their keys, as PEM for mosquitto and DER for the
//! modem's credential store; and a chain of Let's Encrypt's ECDSA shape (a P-384 root and
//! intermediate, a P-256 server key, signed with SHA-384).

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// What to tell someone whose machine lacks openssl.
const INSTALL: &str = "the `openssl` command is required by the certificate tests and \
    could not be run. Install it, e.g. on Debian or Ubuntu: `apt-get install -y openssl`.";

/// The files of the test PKI, in a temporary directory that lives as long as it.
pub struct Pki {
    dir: TempDir,
    /// The curve of each key made, by name.
    curves: RefCell<HashMap<String, Curve>>,
}

/// The curve of a key.
#[derive(Clone, Copy)]
enum Curve {
    P256,
    P384,
}

impl Curve {
    /// Its name for `openssl ecparam`.
    fn name(self) -> &'static str {
        match self {
            Self::P256 => "prime256v1",
            Self::P384 => "secp384r1",
        }
    }

    /// The digest a key on the curve signs with (as Let's Encrypt's P-384 CAs do).
    fn digest(self) -> &'static str {
        match self {
            Self::P256 => "-sha256",
            Self::P384 => "-sha384",
        }
    }
}

/// Runs `openssl ARGS` in `dir`; fails loudly with its output.
fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{INSTALL} ({e})"));
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Pki {
    /// Makes the CA `ca`, the other CA `other-ca`, and the certificates: `server`
    /// (`localhost`, 127.0.0.1), `foreign` (the same names, from `other-ca`), `expired`
    /// (the same names, expired yesterday), `wrong-name` (`wrong.example`), `client`.
    /// The P-384 roots `root-x2` and `other-x2`, the P-384 intermediate `e5` of
    /// `root-x2`, and `le-server` (`localhost`, a P-256 key) that `e5` signs, whose PEM
    /// carries `e5` after it (as certbot's `fullchain.pem`).
    pub fn generate() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory for the PKI");
        let pki = Self {
            dir,
            curves: RefCell::default(),
        };
        pki.ca("ca", "at-mqtt test CA", Curve::P256);
        pki.ca("other-ca", "another CA", Curve::P256);
        let names = "subjectAltName=DNS:localhost,IP:127.0.0.1";
        pki.issue("server", "ca", "localhost", names, "365");
        pki.issue("foreign", "other-ca", "localhost", names, "365");
        pki.issue("expired", "ca", "localhost", names, "-1");
        pki.issue(
            "wrong-name",
            "ca",
            "wrong.example",
            "subjectAltName=DNS:wrong.example",
            "365",
        );
        pki.issue(
            "client",
            "ca",
            "modem",
            "extendedKeyUsage=clientAuth",
            "365",
        );
        pki.ca("root-x2", "test root X2", Curve::P384);
        pki.ca("other-x2", "test root X2", Curve::P384);
        pki.issue_on(
            Curve::P384,
            "e5",
            "root-x2",
            "E5",
            "basicConstraints=critical,CA:TRUE",
            "365",
        );
        pki.issue("le-server", "e5", "localhost", names, "365");
        let mut chain = pki.read("le-server.pem");
        chain.extend(pki.read("e5.pem"));
        std::fs::write(pki.path("le-server.pem"), chain).expect("the chain file");
        pki
    }

    /// A server certificate `name` from the CA `ca` for `address` (its common name and
    /// its one subjectAltName, an iPAddress), valid for a year; e.g. for a broker that the
    /// modem reaches by its address.
    pub fn issue_for_address(&self, name: &str, address: IpAddr) {
        let names = format!("subjectAltName=IP:{address}");
        self.issue(name, "ca", &address.to_string(), &names, "365");
    }

    fn key(&self, name: &str, curve: Curve) {
        let key = format!("{name}.key");
        openssl(
            self.dir.path(),
            &[
                "ecparam",
                "-name",
                curve.name(),
                "-genkey",
                "-noout",
                "-out",
                &key,
            ],
        );
        self.curves.borrow_mut().insert(name.to_owned(), curve);
    }

    fn ca(&self, name: &str, common_name: &str, curve: Curve) {
        self.key(name, curve);
        let subject = format!("/CN={common_name}");
        openssl(
            self.dir.path(),
            &[
                "req",
                "-x509",
                "-new",
                curve.digest(),
                "-key",
                &format!("{name}.key"),
                "-subj",
                &subject,
                "-days",
                "365",
                "-out",
                &format!("{name}.pem"),
            ],
        );
        self.der(name);
    }

    /// A certificate `name` for `common_name` with a P-256 key, signed by `issuer`, with
    /// the extension line `extension`, valid for `days` (negative: already expired).
    fn issue(&self, name: &str, issuer: &str, common_name: &str, extension: &str, days: &str) {
        self.issue_on(Curve::P256, name, issuer, common_name, extension, days);
    }

    /// As [`Self::issue`], with a key on `curve`.
    fn issue_on(
        &self,
        curve: Curve,
        name: &str,
        issuer: &str,
        common_name: &str,
        extension: &str,
        days: &str,
    ) {
        self.key(name, curve);
        let digest = self
            .curves
            .borrow()
            .get(issuer)
            .unwrap_or_else(|| panic!("no key {issuer}"))
            .digest();
        let dir = self.dir.path();
        let (csr, ext) = (format!("{name}.csr"), format!("{name}.ext"));
        std::fs::write(dir.join(&ext), format!("{extension}\n")).expect("extension file");
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                &format!("{name}.key"),
                "-subj",
                &format!("/CN={common_name}"),
                "-out",
                &csr,
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                digest,
                "-in",
                &csr,
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-CAcreateserial",
                "-days",
                days,
                "-extfile",
                &ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
        self.der(name);
        openssl(
            dir,
            &[
                "ec",
                "-in",
                &format!("{name}.key"),
                "-outform",
                "DER",
                "-out",
                &format!("{name}.key.der"),
            ],
        );
    }

    fn der(&self, name: &str) {
        openssl(
            self.dir.path(),
            &[
                "x509",
                "-in",
                &format!("{name}.pem"),
                "-outform",
                "DER",
                "-out",
                &format!("{name}.der"),
            ],
        );
    }

    /// A file of the PKI, e.g. `server.pem`, `server.key`, `ca.der`, `client.key.der`.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// The bytes of a file of the PKI.
    pub fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.path(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    /// mosquitto's TLS 1.3 listener lines on `port` of 127.0.0.1 presenting `server`; with
    /// `require_client`, it requires a client certificate signed by the CA.
    pub fn listener(&self, port: u16, server: &str, require_client: bool) -> Vec<String> {
        self.listener_on(IpAddr::from([127, 0, 0, 1]), port, server, require_client)
    }

    /// [`listener`](Self::listener) on `address` instead of 127.0.0.1.
    pub fn listener_on(
        &self,
        address: IpAddr,
        port: u16,
        server: &str,
        require_client: bool,
    ) -> Vec<String> {
        let mut lines = vec![
            format!("listener {port} {address}"),
            format!("cafile {}", self.path("ca.pem").display()),
            format!("certfile {}", self.path(&format!("{server}.pem")).display()),
            format!("keyfile {}", self.path(&format!("{server}.key")).display()),
            "tls_version tlsv1.3".to_owned(),
        ];
        if require_client {
            lines.push("require_certificate true".to_owned());
        }
        lines
    }

    /// Writes the modem's credential store under `state_dir` (at-host `--state-dir`):
    /// the CA at index 0, the other CA at 1, the client certificate and key at 0.
    pub fn write_store(&self, state_dir: &Path) {
        let dir = state_dir.join("credentials");
        std::fs::create_dir_all(&dir).expect("credentials directory");
        for (file, from) in [
            ("mqtt_ca.0.der", "ca.der"),
            ("mqtt_ca.1.der", "other-ca.der"),
            ("mqtt_cert.0.der", "client.der"),
            ("mqtt_key.0.der", "client.key.der"),
        ] {
            std::fs::write(dir.join(file), self.read(from)).expect("credential file");
        }
    }
}
