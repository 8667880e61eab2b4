//! `AT+MQTTCERT=<"ca"|"cert"|"key">,<index>,<length>`: uploads a CA certificate, client
//! certificate or client key (PEM or DER) as raw data, or erases it (`length` 0);
//! `AT+MQTTCERT?` lists what is stored. Feature `tls-cert`, both profiles.
//!
//! Set: `OK`, the `>` prompt, exactly `<length>` bytes, then `OK` once the item is checked
//! and stored, or `ERROR` (nothing stored). Query: `+MQTTCERT:<"kind">,<index>,<bytes>`
//! per stored item (its DER size), then `OK`.

use at_core::{Args, Context, ErrorCode, LineBuf, Outcome};

use crate::MqttClient;
use crate::credentials::check::Refusal;
use crate::credentials::{CredentialKind, MAX_CREDENTIAL_INDEX};
use crate::error::{
    CA_ID_READ_FAILED, CA_ID_VALUE_IS_WRONG, CERT_KEY_ID_READ_FAILED, CERT_KEY_ID_VALUE_IS_WRONG,
    ParamCodes,
};

/// The kind's name in `AT+MQTTCERT`.
fn name(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Ca => "ca",
        CredentialKind::ClientCert => "cert",
        CredentialKind::ClientKey => "key",
    }
}

/// The codes of an index of `kind`: `CA_ID`'s for a CA, `cert_key_ID`'s otherwise.
pub(super) fn index_codes(kind: CredentialKind) -> ParamCodes {
    match kind {
        CredentialKind::Ca => ParamCodes::new(CA_ID_READ_FAILED, CA_ID_VALUE_IS_WRONG),
        CredentialKind::ClientCert | CredentialKind::ClientKey => {
            ParamCodes::new(CERT_KEY_ID_READ_FAILED, CERT_KEY_ID_VALUE_IS_WRONG)
        }
    }
}

/// A parsed `AT+MQTTCERT=...`.
pub(super) struct Cert {
    kind: CredentialKind,
    index: u8,
    length: usize,
}

impl Cert {
    /// Parses `<"kind">,<index>,<length>`; `payload_capacity` (the request slot's) bounds
    /// the length.
    pub(super) fn parse(args: &mut Args<'_>, payload_capacity: usize) -> Result<Self, ErrorCode> {
        args.expect_count(3..=3)?;
        let text = args.str().map_err(ErrorCode::from)?;
        let kind = CredentialKind::ALL
            .into_iter()
            .find(|&kind| name(kind).as_bytes() == text)
            .ok_or(ErrorCode::INVALID_PARAMETER)?;
        let index = args
            .int(0u8..=MAX_CREDENTIAL_INDEX)
            .map_err(|e| index_codes(kind).map(e))?;
        let length_error = Refusal::Length.code(kind);
        let max = u32::try_from(payload_capacity).unwrap_or(u32::MAX);
        let length = args
            .int(0u32..=max)
            .map_err(|e| ParamCodes::new(length_error, length_error).map(e))?;
        args.finish()?;
        Ok(Self {
            kind,
            index,
            length: usize::try_from(length).map_err(|_| length_error)?,
        })
    }

    /// Uploads (the prompt, the data, the check, the store) or erases.
    pub(super) async fn run<C: Context, const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        if self.length == 0 {
            client.erase_credential(cx, self.kind, self.index).await?;
        } else {
            client
                .upload_credential(cx, self.kind, self.index, self.length)
                .await?;
        }
        Ok(Outcome::Ok)
    }
}

/// `AT+MQTTCERT?`: one line per stored item.
pub(super) async fn query<C: Context, const P: usize, const S: usize>(
    client: MqttClient<'_, P, S>,
    cx: &mut C,
) -> Result<Outcome, ErrorCode> {
    for kind in CredentialKind::ALL {
        for index in 0..=MAX_CREDENTIAL_INDEX {
            let size = client
                .read_credential(cx, kind, index)
                .await?
                .map(|der| der.len());
            if let Some(size) = size {
                let mut line = LineBuf::<32>::new();
                line.push_str("+MQTTCERT:\"");
                line.push_str(name(kind));
                line.push_str("\",");
                line.push_decimal(index);
                line.push_str(",");
                line.push_decimal(size as u64);
                cx.write_line(line.as_bytes()).await;
            }
        }
    }
    Ok(Outcome::Ok)
}
