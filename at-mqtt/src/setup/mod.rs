//! The ESP-AT set-up commands that host drivers send before MQTT, in ESP-AT's formats
//! (both profiles): the modem really does what a board can do, and accepts the rest as
//! documented no-ops, so that a driver's initialisation gets `OK` throughout.
//!
//! | command | what it does here |
//! |---|---|
//! | `AT+CWINIT=<0\|1>`, `?` | stored and shown; the network driver always runs |
//! | `AT+CWAUTOCONN=<0\|1>`, `?` | stored and shown; nothing is kept across power-on to join |
//! | `AT+CIPDINFO=<0\|1>`, `?` | stored and shown (`+CIPDINFO:true\|false`); no `+IPD` exists |
//! | `AT+CIPMUX=<0\|1>`, `?` | stored and shown; there are no TCP/UDP socket commands |
//! | `AT+CIPRECVMODE=<0\|1>`, `?` | stored and shown; as `AT+CIPMUX` |
//! | `AT+SYSSTORE=<0\|1>`, `?` | stored and shown; no setting is ever written to flash |
//! | `AT+RESTORE` | `OK`, then a restart that forgets every setting, then `ready` |
//! | `AT+CIPSNTPCFG=<en>[,<tz>][,<server>...]`, `?` | SNTP on/off, timezone, up to 3 servers |
//! | `AT+CIPSNTPTIME?` | the time (asking SNTP first when it is on), `asctime` style |
//! | `AT+SYSTIMESTAMP=<unix>`, `?` | sets / shows the clock as Unix time |
//! | `AT+UART_CUR=<baud>,8,1,0,0`, `?` | `OK` at the old rate, then the port switches |
//!
//! `AT+CWDHCP` lives with `AT+CIPSTA` in [`IpCommands`](crate::station::IpCommands),
//! as both change the interface's addressing.

mod calendar;
mod clock;
#[cfg(feature = "embassy-net")]
mod embassy;

use core::pin::pin;

use at_core::{Args, CommandInfo, CommandSet, Context, ErrorCode, Form, LineBuf, Outcome};
use embassy_time::with_timeout;
use heapless::String;

pub use calendar::{ASCTIME_MAX_BYTES, AscTime, Timezone};
pub use clock::{
    Clock, DEFAULT_SNTP_SERVERS, MAX_SNTP_SERVER, MAX_SNTP_SERVERS, SNTP_INTERVAL,
    SNTP_SERVER_TIMEOUT, SntpConfig, TimeSource, wall_time,
};
#[cfg(feature = "embassy-net")]
pub use embassy::EmbassySntp;

at_core::command_table! {
    /// The set-up commands.
    pub enum SetupCommand {
        /// `AT+CWINIT`: Wi-Fi driver on/off (stored).
        WifiInit = "+CWINIT": QUERY | SET,
        /// `AT+CWAUTOCONN`: join the stored access point at power-on (stored).
        AutoConnect = "+CWAUTOCONN": QUERY | SET,
        /// `AT+CIPDINFO`: remote address in `+IPD` (stored).
        IpdInfo = "+CIPDINFO": QUERY | SET,
        /// `AT+CIPMUX`: multiple socket connections (stored).
        Mux = "+CIPMUX": QUERY | SET,
        /// `AT+CIPRECVMODE`: active or passive socket receive (stored).
        ReceiveMode = "+CIPRECVMODE": QUERY | SET,
        /// `AT+SYSSTORE`: whether settings go to flash (stored; they never do).
        SysStore = "+SYSSTORE": QUERY | SET,
        /// `AT+RESTORE`: forget every setting and restart.
        Restore = "+RESTORE": EXECUTE,
        /// `AT+CIPSNTPCFG`: SNTP on/off, timezone, servers.
        SntpConfig = "+CIPSNTPCFG": QUERY | SET,
        /// `AT+CIPSNTPTIME?`: the local time.
        SntpTime = "+CIPSNTPTIME": QUERY,
        /// `AT+SYSTIMESTAMP`: the clock as Unix time.
        Timestamp = "+SYSTIMESTAMP": QUERY | SET,
        /// `AT+UART_CUR`: the UART's settings for this power-on.
        UartCurrent = "+UART_CUR": QUERY | SET,
    }
}

/// A setting ESP-AT has but this modem cannot do (e.g. 7 data bits, flow control):
/// `ERR CODE:0x010a0002`.
pub const SETTING_NOT_SUPPORTED: ErrorCode = ErrorCode::execution(0x0002);

/// The lowest and highest rates `AT+UART_CUR` accepts (ESP-AT's range).
pub const UART_BAUD_RANGE: core::ops::RangeInclusive<u32> = 80..=5_000_000;

/// The settings that are only stored and shown back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Flags {
    wifi_init: bool,
    auto_connect: bool,
    ipd_info: bool,
    mux: bool,
    passive_receive: bool,
    sys_store: bool,
}

impl Flags {
    /// ESP-AT's defaults.
    const POWER_ON: Self = Self {
        wifi_init: true,
        auto_connect: true,
        ipd_info: false,
        mux: false,
        passive_receive: false,
        sys_store: true,
    };
}

/// The set-up commands over a port's [`TimeSource`] and UART rate.
pub struct SetupCommands<T> {
    time: T,
    flags: Flags,
    sntp: SntpConfig,
    clock: Clock,
    baud_rate: u32,
}

impl<T: TimeSource> SetupCommands<T> {
    /// Commands asking `time` for the time, for a UART running at `baud_rate` now.
    pub fn new(time: T, baud_rate: u32) -> Self {
        Self {
            time,
            flags: Flags::POWER_ON,
            sntp: SntpConfig::default(),
            clock: Clock::default(),
            baud_rate,
        }
    }

    /// The SNTP settings.
    pub fn sntp(&self) -> &SntpConfig {
        &self.sntp
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Asks the SNTP servers in turn, each within [`SNTP_SERVER_TIMEOUT`], when SNTP is
    /// on and the clock wants it; the first answer sets the clock.
    async fn sync<C: Context>(&mut self, cx: &mut C) {
        if !self.sntp.enabled || !self.clock.wants_sntp() {
            return;
        }
        let (time, servers) = (&mut self.time, &self.sntp.servers);
        let answer = cx
            .wait(pin!(async {
                for server in servers {
                    if let Ok(Some(unix)) =
                        with_timeout(SNTP_SERVER_TIMEOUT, time.unix_time(server)).await
                    {
                        return Some(unix);
                    }
                    warn!("SNTP: no time from {}", server.as_str());
                }
                None
            }))
            .await;
        if let Some(unix) = answer {
            info!("SNTP: the clock is set to {}", unix);
            self.clock.set_from_sntp(unix);
        }
    }

    fn set_sntp(&mut self, mut args: Args<'_>) -> Result<(), ErrorCode> {
        args.expect_count(1..=2 + MAX_SNTP_SERVERS)?;
        let enabled = args.int(0u8..=1)? == 1;
        let timezone = match args.opt_int(-1200i32..=1400)? {
            Some(value) => Timezone::from_parameter(value).ok_or(ErrorCode::INVALID_PARAMETER)?,
            None => Timezone::UTC,
        };
        let mut config = SntpConfig {
            enabled,
            timezone,
            servers: heapless::Vec::new(),
        };
        while args.position() < args.len() {
            let name = args.str()?;
            let name = core::str::from_utf8(name).map_err(|_| ErrorCode::INVALID_PARAMETER)?;
            if name.is_empty() {
                return Err(ErrorCode::INVALID_PARAMETER);
            }
            let name = String::try_from(name).map_err(|_| ErrorCode::INVALID_PARAMETER)?;
            config
                .servers
                .push(name)
                .map_err(|_| ErrorCode::INVALID_PARAMETER)?;
        }
        args.finish()?;
        if config.servers.is_empty() {
            config.servers = SntpConfig::default().servers;
        }
        if config.servers != self.sntp.servers || !self.sntp.enabled {
            // New servers are asked at the next query.
            self.clock = match self.clock.now() {
                Some(unix) => {
                    let mut clock = Clock::default();
                    clock.set_by_host(unix);
                    clock
                }
                None => Clock::default(),
            };
        }
        self.sntp = config;
        Ok(())
    }

    async fn show_sntp<C: Context>(&self, cx: &mut C) {
        let mut line = LineBuf::<{ 32 + MAX_SNTP_SERVERS * (MAX_SNTP_SERVER + 3) }>::new();
        line.push_str(if self.sntp.enabled {
            "+CIPSNTPCFG:1,"
        } else {
            "+CIPSNTPCFG:0,"
        });
        line.push_signed(self.sntp.timezone.written());
        for server in &self.sntp.servers {
            line.push_str(",\"");
            line.push_str(server);
            line.push_str("\"");
        }
        cx.write_line(line.as_bytes()).await;
    }

    async fn show_time<C: Context>(&mut self, cx: &mut C) {
        self.sync(cx).await;
        // Unset, ESP-AT shows the epoch whatever the timezone; drivers wait for it to
        // change.
        let local = self.clock.now().map_or(0, |unix| {
            i64::try_from(unix)
                .unwrap_or(i64::MAX)
                .saturating_add(self.sntp.timezone.offset_seconds())
        });
        let mut line = LineBuf::<{ 16 + ASCTIME_MAX_BYTES }>::new();
        line.push_str("+CIPSNTPTIME:");
        AscTime(local).push_to(&mut line);
        cx.write_line(line.as_bytes()).await;
    }

    fn set_uart(&mut self, mut args: Args<'_>) -> Result<Outcome, ErrorCode> {
        args.expect_count(5..=5)?;
        let baud = args.int(UART_BAUD_RANGE)?;
        let data_bits = args.int(5u8..=8)?;
        let stop_bits = args.int(1u8..=3)?;
        let parity = args.int(0u8..=2)?;
        let flow_control = args.int(0u8..=3)?;
        args.finish()?;
        if (data_bits, stop_bits, parity, flow_control) != (8, 1, 0, 0) {
            return Err(SETTING_NOT_SUPPORTED);
        }
        self.baud_rate = baud;
        Ok(Outcome::OkThenBaudRate(baud))
    }
}

/// Reads the single `<0|1>` of a flag's set form.
fn flag(mut args: Args<'_>) -> Result<bool, ErrorCode> {
    args.expect_count(1..=1)?;
    let on = args.int(0u8..=1)? == 1;
    args.finish()?;
    Ok(on)
}

/// Writes `+<NAME>:<0|1>`.
async fn show_flag<C: Context>(cx: &mut C, name: &str, on: bool) {
    let mut line = LineBuf::<32>::new();
    line.push_str(name);
    line.push_str(if on { ":1" } else { ":0" });
    cx.write_line(line.as_bytes()).await;
}

impl<T: TimeSource> CommandSet for SetupCommands<T> {
    fn command(&self, index: usize) -> Option<&'static CommandInfo> {
        SetupCommand::TABLE.get(index)
    }

    async fn execute<C: Context>(
        &mut self,
        index: usize,
        form: Form,
        mut args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let Some(command) = SetupCommand::from_index(index) else {
            return Err(ErrorCode::UNKNOWN_COMMAND);
        };
        let query = form == Form::Query;
        let flags = &mut self.flags;
        let stored = match command {
            SetupCommand::WifiInit => Some(("+CWINIT", &mut flags.wifi_init)),
            SetupCommand::AutoConnect => Some(("+CWAUTOCONN", &mut flags.auto_connect)),
            SetupCommand::Mux => Some(("+CIPMUX", &mut flags.mux)),
            SetupCommand::ReceiveMode => Some(("+CIPRECVMODE", &mut flags.passive_receive)),
            SetupCommand::SysStore => Some(("+SYSSTORE", &mut flags.sys_store)),
            _ => None,
        };
        if let Some((name, value)) = stored {
            if query {
                show_flag(cx, name, *value).await;
            } else {
                *value = flag(args)?;
            }
            return Ok(Outcome::Ok);
        }
        match command {
            SetupCommand::IpdInfo if query => {
                let line: &[u8] = if self.flags.ipd_info {
                    b"+CIPDINFO:true"
                } else {
                    b"+CIPDINFO:false"
                };
                cx.write_line(line).await;
            }
            SetupCommand::IpdInfo => self.flags.ipd_info = flag(args)?,
            SetupCommand::Restore => {
                // The restart forgets every setting: nothing outlives a power-on.
                return Ok(Outcome::OkThenRestart);
            }
            SetupCommand::SntpConfig if query => self.show_sntp(cx).await,
            SetupCommand::SntpConfig => self.set_sntp(args)?,
            SetupCommand::SntpTime => self.show_time(cx).await,
            SetupCommand::Timestamp if query => {
                self.sync(cx).await;
                let mut line = LineBuf::<40>::new();
                line.push_str("+SYSTIMESTAMP:");
                line.push_decimal(self.clock.now().unwrap_or(0));
                cx.write_line(line.as_bytes()).await;
            }
            SetupCommand::Timestamp => {
                args.expect_count(1..=1)?;
                let unix = args.int(0u32..=u32::MAX)?;
                args.finish()?;
                self.clock.set_by_host(u64::from(unix));
            }
            SetupCommand::UartCurrent if query => {
                let mut line = LineBuf::<40>::new();
                line.push_str("+UART_CUR:");
                line.push_decimal(self.baud_rate);
                line.push_str(",8,1,0,0");
                cx.write_line(line.as_bytes()).await;
            }
            SetupCommand::UartCurrent => return self.set_uart(args),
            _ => return Err(ErrorCode::UNKNOWN_COMMAND),
        }
        Ok(Outcome::Ok)
    }

    /// `SETTING_NOT_SUPPORTED`.
    fn describe(&self, code: ErrorCode) -> Option<&'static str> {
        (code == SETTING_NOT_SUPPORTED)
            .then_some("this modem cannot do that setting (UART: only 8 data bits, 1 stop bit, no parity, no flow control)")
    }
}
