//! The basic commands every modem has: `AT`, `ATE0`/`ATE1`, `AT+RST`, `AT+GMR`,
//! `AT+CMD?` and `AT+SYSLOG`.

use crate::engine::Settings;
use crate::{Args, CommandSet, Config, Context, ErrorCode, Form, LineBuf, Outcome};

crate::command_table! {
    /// The basic commands, listed first by `AT+CMD?`.
    pub enum Basic {
        /// `AT`: answers `OK`.
        At = "": EXECUTE,
        /// `ATE0`: echo off.
        EchoOff = "E0": EXECUTE,
        /// `ATE1`: echo on.
        EchoOn = "E1": EXECUTE,
        /// `AT+RST`: `OK`, then the port restarts the board.
        Restart = "+RST": EXECUTE,
        /// `AT+GMR`: version lines.
        Version = "+GMR": EXECUTE,
        /// `AT+CMD?`: the command table.
        Commands = "+CMD": QUERY,
        /// `AT+SYSLOG=<0|1>`, `AT+SYSLOG?`: error-code lines.
        SysLog = "+SYSLOG": QUERY | SET,
    }
}

/// What a basic command asks of the engine besides its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BasicReply {
    Outcome(Outcome),
    Restart,
}

/// What a basic command that writes nothing does when it runs at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AtOnce {
    /// `AT`: only the `OK`.
    Ok,
    /// `ATE0` / `ATE1`: echo off or on.
    Echo(bool),
    /// `AT+RST`: the restart.
    Restart,
}

impl AtOnce {
    /// The action of `command` if it runs at once (`AT`, `ATE0`, `ATE1`, `AT+RST`): the
    /// line's fast path; `None` for the others, which [`execute`] runs. The one list of
    /// the commands that run at once.
    pub(crate) const fn of(command: Basic) -> Option<Self> {
        match command {
            Basic::At => Some(Self::Ok),
            Basic::EchoOff => Some(Self::Echo(false)),
            Basic::EchoOn => Some(Self::Echo(true)),
            Basic::Restart => Some(Self::Restart),
            Basic::Version | Basic::Commands | Basic::SysLog => None,
        }
    }

    /// Carries the action out on `settings`.
    pub(crate) fn run(self, settings: &mut Settings) -> BasicReply {
        match self {
            Self::Ok => {}
            Self::Echo(on) => settings.echo = on,
            Self::Restart => return BasicReply::Restart,
        }
        BasicReply::Outcome(Outcome::Ok)
    }
}

/// Runs `command` at once if it is one that does ([`AtOnce::of`]).
pub(crate) fn execute_at_once(command: Basic, settings: &mut Settings) -> Option<BasicReply> {
    AtOnce::of(command).map(|action| action.run(settings))
}

/// Runs a basic command.
pub(crate) async fn execute<C: Context, S: CommandSet>(
    command: Basic,
    form: Form,
    mut args: Args<'_>,
    cx: &mut C,
    settings: &mut Settings,
    config: &Config,
    commands: &S,
) -> Result<BasicReply, ErrorCode> {
    if let Some(reply) = execute_at_once(command, settings) {
        return Ok(reply);
    }
    match command {
        // Run by `execute_at_once`.
        Basic::At | Basic::EchoOff | Basic::EchoOn | Basic::Restart => {}
        Basic::Version => {
            let build = if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            };
            // Line by line through one write: one await in this future for the four.
            let lines = [
                ["AT version:", config.firmware_version, "(at-mqtt-modem)"],
                ["Protocol profile:", config.profile.name(), ""],
                ["Build profile:", build, ""],
                ["Board:", config.board, ""],
            ];
            for parts in lines {
                let mut line = LineBuf::<96>::new();
                for part in parts {
                    line.push_str(part);
                }
                cx.write_line(line.as_bytes()).await;
            }
        }
        Basic::Commands => {
            let rows = Basic::TABLE
                .iter()
                .chain((0..).map_while(|i| commands.command(i)));
            for (index, info) in rows.enumerate() {
                let mut line = LineBuf::<64>::new();
                line.push_str("+CMD:");
                line.push_decimal(index as u64);
                line.push_str(",\"AT");
                line.push_str(info.name);
                line.push_str("\"");
                for form in [Form::Test, Form::Query, Form::Set, Form::Execute] {
                    line.push_bytes(if info.forms.contains(form) {
                        b",1"
                    } else {
                        b",0"
                    });
                }
                cx.write_line(line.as_bytes()).await;
            }
        }
        Basic::SysLog => {
            if form == Form::Query {
                let line: &[u8] = if settings.syslog {
                    b"+SYSLOG:1"
                } else {
                    b"+SYSLOG:0"
                };
                cx.write_line(line).await;
            } else {
                args.expect_count(1..=1)?;
                settings.syslog = args.int(0u8..=1)? == 1;
            }
        }
    }
    Ok(BasicReply::Outcome(Outcome::Ok))
}
