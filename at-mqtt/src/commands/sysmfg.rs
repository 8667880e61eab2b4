//! ESP-AT's `AT+SYSMFG` for the MQTT namespaces `mqtt_ca`, `mqtt_cert` and `mqtt_key`
//! (keys `<namespace>.<index>`, e.g. `mqtt_ca.0`). Feature `tls-cert`, both profiles.
//!
//! - `AT+SYSMFG?`: `+SYSMFG:<"namespace">` for the three namespaces, then `OK`.
//! - Erase: `AT+SYSMFG=0,<"namespace">[,<"key">]`: the key, or every key of the namespace.
//! - Read: `AT+SYSMFG=1,<"namespace">,<"key">[,<offset>,<length>]`:
//!   `+SYSMFG:<"namespace">,<"key">,8,<length>,<bytes>` (the stored DER, or the part
//!   from `offset`), then `OK`; a key with nothing stored is `ERROR`.
//! - Write: `AT+SYSMFG=2,<"namespace">,<"key">,8,<length>`: `OK`, the `>` prompt, exactly
//!   `<length>` bytes (PEM or DER), then `OK` once checked and stored, or `ERROR`.
//!
//! Another namespace, a key that does not name its namespace and an index, or a type
//! other than 8 (binary) is `ERROR` with `0x01070000`.

use at_core::{Args, Context, ErrorCode, LineBuf, Outcome};

use super::certificate::index_codes;
use crate::MqttClient;
use crate::credentials::check::Refusal;
use crate::credentials::{CredentialKind, MAX_CREDENTIAL_INDEX};
use crate::error::ParamCodes;

/// `AT+SYSMFG`'s data type for binary values.
const BINARY: u8 = 8;

/// No item is stored under the key read.
pub const NOT_STORED: ErrorCode = ErrorCode::execution(0x0005);

/// What a parsed `AT+SYSMFG=...` does.
enum Operation {
    /// Erase one key, or (`None`) the namespace.
    Erase(Option<u8>),
    /// Read a key, from `offset`, at most `length` bytes.
    Read {
        index: u8,
        offset: usize,
        length: Option<usize>,
    },
    /// Write a key with `length` bytes of raw data.
    Write { index: u8, length: usize },
}

/// A parsed `AT+SYSMFG=...`.
pub(super) struct SysMfg {
    kind: CredentialKind,
    operation: Operation,
}

impl SysMfg {
    /// Parses the set form; `payload_capacity` (the request slot's) bounds a write.
    pub(super) fn parse(args: &mut Args<'_>, payload_capacity: usize) -> Result<Self, ErrorCode> {
        args.expect_count(2..=5)?;
        let operation = args.int(0u8..=2).map_err(ErrorCode::from)?;
        let namespace = args.str().map_err(ErrorCode::from)?;
        let kind = CredentialKind::ALL
            .into_iter()
            .find(|kind| kind.namespace().as_bytes() == namespace)
            .ok_or(ErrorCode::INVALID_PARAMETER)?;
        let operation = match operation {
            0 => Operation::Erase(match args.opt_str().map_err(ErrorCode::from)? {
                Some(key) => Some(key_index(kind, key)?),
                None => None,
            }),
            1 => {
                let index = key_index(kind, args.str().map_err(ErrorCode::from)?)?;
                let offset = args.opt_int(0u32..=u32::MAX).map_err(ErrorCode::from)?;
                let length = args.opt_int(1u32..=u32::MAX).map_err(ErrorCode::from)?;
                Operation::Read {
                    index,
                    offset: to_usize(offset.unwrap_or(0))?,
                    length: length.map(to_usize).transpose()?,
                }
            }
            _ => {
                let index = key_index(kind, args.str().map_err(ErrorCode::from)?)?;
                args.int(BINARY..=BINARY).map_err(ErrorCode::from)?;
                let length_error = Refusal::Length.code(kind);
                let max = u32::try_from(payload_capacity).unwrap_or(u32::MAX);
                let length = args
                    .int(1u32..=max)
                    .map_err(|e| ParamCodes::new(length_error, length_error).map(e))?;
                Operation::Write {
                    index,
                    length: usize::try_from(length).map_err(|_| length_error)?,
                }
            }
        };
        args.finish()?;
        Ok(Self { kind, operation })
    }

    /// Carries the operation out.
    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "a read item stays in the request slot, which no other request can use \
                  while this command runs"
    )]
    pub(super) async fn run<C: Context, const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let kind = self.kind;
        match self.operation {
            Operation::Erase(Some(index)) => client.erase_credential(cx, kind, index).await?,
            Operation::Erase(None) => {
                for index in 0..=MAX_CREDENTIAL_INDEX {
                    client.erase_credential(cx, kind, index).await?;
                }
            }
            Operation::Write { index, length } => {
                client.upload_credential(cx, kind, index, length).await?;
            }
            Operation::Read {
                index,
                offset,
                length,
            } => {
                let der = client
                    .read_credential(cx, kind, index)
                    .await?
                    .ok_or(NOT_STORED)?;
                let rest = der.get(offset..).ok_or(ErrorCode::INVALID_PARAMETER)?;
                let part = rest
                    .get(..length.unwrap_or(rest.len()).min(rest.len()))
                    .unwrap_or_default();
                let mut header = LineBuf::<64>::new();
                header.push_str("+SYSMFG:\"");
                header.push_str(kind.namespace());
                header.push_str("\",\"");
                header.push_str(kind.namespace());
                header.push_str(".");
                header.push_decimal(index);
                header.push_str("\",");
                header.push_decimal(BINARY);
                header.push_str(",");
                header.push_decimal(part.len() as u64);
                header.push_str(",");
                cx.write(header.as_bytes()).await;
                cx.write(part).await;
                cx.write(b"\r\n").await;
            }
        }
        Ok(Outcome::Ok)
    }
}

/// `AT+SYSMFG?`: the namespaces this modem keeps.
pub(super) async fn query<C: Context>(cx: &mut C) -> Result<Outcome, ErrorCode> {
    for kind in CredentialKind::ALL {
        let mut line = LineBuf::<32>::new();
        line.push_str("+SYSMFG:\"");
        line.push_str(kind.namespace());
        line.push_str("\"");
        cx.write_line(line.as_bytes()).await;
    }
    Ok(Outcome::Ok)
}

/// The index of a key `<namespace>.<index>` of `kind`'s namespace.
fn key_index(kind: CredentialKind, key: &[u8]) -> Result<u8, ErrorCode> {
    let digits = key
        .strip_prefix(kind.namespace().as_bytes())
        .and_then(|rest| rest.strip_prefix(b"."))
        .ok_or(ErrorCode::INVALID_PARAMETER)?;
    let valid = !digits.is_empty() && digits.len() <= 3 && digits.iter().all(u8::is_ascii_digit);
    if !valid {
        return Err(index_codes(kind).read);
    }
    let index = digits
        .iter()
        .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    u8::try_from(index)
        .ok()
        .filter(|&index| index <= MAX_CREDENTIAL_INDEX)
        .ok_or(index_codes(kind).value)
}

fn to_usize(value: u32) -> Result<usize, ErrorCode> {
    usize::try_from(value).map_err(|_| ErrorCode::INVALID_PARAMETER)
}
