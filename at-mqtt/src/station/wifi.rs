//! `AT+CWMODE`, `AT+CWJAP` and `AT+CWQAP`: joining a Wi-Fi network as a station.

use core::pin::pin;

use at_core::{Args, CommandInfo, CommandSet, Context, ErrorCode, Form, LineBuf, Outcome};
use embassy_time::{Duration, with_timeout};
use heapless::String;

at_core::command_table! {
    /// The Wi-Fi station commands.
    pub enum WifiCommand {
        /// `AT+CWMODE`: only station mode (1) is supported.
        Mode = "+CWMODE": QUERY | SET,
        /// `AT+CWJAP`: join an access point, or show the joined one.
        Join = "+CWJAP": QUERY | SET,
        /// `AT+CWQAP`: leave the access point.
        Quit = "+CWQAP": EXECUTE,
    }
}

/// Why joining failed: the number is ESP-AT's `+CWJAP:<code>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// No answer in time.
    Timeout = 1,
    /// The access point refused the password.
    WrongPassword = 2,
    /// No access point with that SSID.
    NoAccessPoint = 3,
    /// Any other failure.
    Failed = 4,
}

/// The joined access point, for `AT+CWJAP?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessPoint {
    /// The SSID.
    pub ssid: String<32>,
    /// The BSSID.
    pub bssid: [u8; 6],
    /// The channel.
    pub channel: u8,
    /// The signal strength in dBm.
    pub rssi: i8,
}

/// What the Wi-Fi commands need from a port's radio.
#[allow(async_fn_in_trait)]
pub trait WifiStation {
    /// Joins `ssid` with `password` (empty for an open network); returns once associated.
    async fn join(&mut self, ssid: &str, password: &str) -> Result<(), JoinError>;

    /// Waits until the interface has an IPv4 address.
    async fn wait_for_ip(&mut self);

    /// The joined access point.
    fn access_point(&self) -> Option<AccessPoint>;

    /// Leaves the access point.
    async fn leave(&mut self);
}

/// The Wi-Fi commands over a [`WifiStation`].
pub struct WifiCommands<W> {
    station: W,
    join_timeout: Duration,
}

impl<W: WifiStation> WifiCommands<W> {
    /// Commands for `station`; a join (association and address) may take 15 s.
    pub fn new(station: W) -> Self {
        Self {
            station,
            join_timeout: Duration::from_secs(15),
        }
    }

    /// The station.
    pub fn station(&mut self) -> &mut W {
        &mut self.station
    }

    async fn join<C: Context>(
        &mut self,
        mut args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        args.expect_count(2..=2)?;
        let ssid = args.str()?;
        let password = args.str()?;
        args.finish()?;
        let ssid = core::str::from_utf8(ssid).map_err(|_| ErrorCode::INVALID_PARAMETER)?;
        let password = core::str::from_utf8(password).map_err(|_| ErrorCode::INVALID_PARAMETER)?;
        if ssid.is_empty() || ssid.len() > 32 || password.len() > 64 {
            return Err(ErrorCode::INVALID_PARAMETER);
        }
        let timeout = self.join_timeout;
        let station = &mut self.station;
        let joined = cx
            .wait(pin!(async {
                with_timeout(timeout, async {
                    station.join(ssid, password).await?;
                    Ok::<(), JoinError>(())
                })
                .await
                .unwrap_or(Err(JoinError::Timeout))
            }))
            .await;
        if let Err(error) = joined {
            let mut line = LineBuf::<16>::new();
            line.push_str("+CWJAP:");
            line.push_decimal(error as u8);
            cx.write_line(line.as_bytes()).await;
            return Err(JOIN_FAILED);
        }
        cx.write(b"WIFI CONNECTED\r\n").await;
        // The response has started: wait without serving the UART.
        let got_ip = with_timeout(timeout, self.station.wait_for_ip()).await;
        if got_ip.is_err() {
            cx.write(b"+CWJAP:1\r\n").await;
            return Err(JOIN_FAILED);
        }
        cx.write(b"WIFI GOT IP\r\n").await;
        Ok(Outcome::Ok)
    }
}

/// Appends `mac` as `aa:bb:cc:dd:ee:ff` (lower-case hex).
fn push_mac<const N: usize>(line: &mut LineBuf<N>, mac: [u8; 6]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in mac.into_iter().enumerate() {
        if i > 0 {
            line.push_str(":");
        }
        line.push_bytes(&[
            DIGITS[usize::from(byte >> 4)],
            DIGITS[usize::from(byte & 0xF)],
        ]);
    }
}

/// `AT+CWJAP` failed; the `+CWJAP:<code>` line says why.
pub const JOIN_FAILED: ErrorCode = ErrorCode::execution(0x0001);

impl<W: WifiStation> CommandSet for WifiCommands<W> {
    fn command(&self, index: usize) -> Option<&'static CommandInfo> {
        WifiCommand::TABLE.get(index)
    }

    async fn execute<C: Context>(
        &mut self,
        index: usize,
        form: Form,
        mut args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        match (WifiCommand::from_index(index), form) {
            (Some(WifiCommand::Mode), Form::Query) => cx.write_line(b"+CWMODE:1").await,
            (Some(WifiCommand::Mode), _) => {
                args.expect_count(1..=1)?;
                args.int(1u8..=1)?;
                args.finish()?;
            }
            (Some(WifiCommand::Join), Form::Query) => match self.station.access_point() {
                Some(ap) => {
                    let mut line = LineBuf::<96>::new();
                    line.push_str("+CWJAP:\"");
                    line.push_str(&ap.ssid);
                    line.push_str("\",\"");
                    push_mac(&mut line, ap.bssid);
                    line.push_str("\",");
                    line.push_decimal(ap.channel);
                    line.push_str(",");
                    line.push_signed(ap.rssi);
                    cx.write_line(line.as_bytes()).await;
                }
                None => cx.write_line(b"No AP").await,
            },
            (Some(WifiCommand::Join), _) => return self.join(args, cx).await,
            (Some(WifiCommand::Quit), _) => {
                let was_joined = self.station.access_point().is_some();
                self.station.leave().await;
                if was_joined {
                    cx.write(b"WIFI DISCONNECT\r\n").await;
                }
            }
            (None, _) => return Err(ErrorCode::UNKNOWN_COMMAND),
        }
        Ok(Outcome::Ok)
    }

    /// `JOIN_FAILED`: joining failed.
    fn describe(&self, code: ErrorCode) -> Option<&'static str> {
        (code == JOIN_FAILED).then_some("joining failed (the +CWJAP:<code> line says why)")
    }
}
