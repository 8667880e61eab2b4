//! Bytes -> the upload check of `AT+MQTTCERT` / `AT+SYSMFG`: the first byte chooses the
//! kind (CA, client certificate, client key), the rest is the uploaded item (PEM or DER).
//! Nothing may panic; an accepted item leaves a DER no longer than the input, which
//! passes the check again unchanged (the stored form is a fixed point).

#![no_main]

use at_mqtt::credentials::CredentialKind;
use at_mqtt::credentials::check::check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, item)) = data.split_first() else {
        return;
    };
    let kind = CredentialKind::ALL[usize::from(choice) % CredentialKind::ALL.len()];
    let mut buf = item.to_vec();
    if let Ok(len) = check(kind, &mut buf) {
        assert!(len <= item.len());
        let mut der = buf[..len].to_vec();
        assert_eq!(
            check(kind, &mut der),
            Ok(len),
            "the stored DER checks again"
        );
        assert_eq!(der, buf[..len]);
    }
});
