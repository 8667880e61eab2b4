//! `at-host`: the AT-command MQTT modem simulated on Linux.
//!
//! The modem's serial line is standard input/output, a pseudo-terminal, or a TCP
//! listener (see `at-host --help`); `--script` plays a file of AT lines instead. Each
//! serial mode hands its byte streams to [`at_host::modem::serve`], which runs the same engine a
//! board runs. The modem's network is the host's TCP, or with `--tap` the boards'
//! embassy-net stack on a Linux TAP device.

use std::process::ExitCode;

use at_host::cli::{Cli, SerialLine};
use at_host::credentials::HostCredentials;
use at_host::modem::{Board, Uplink};
use at_host::tap::Tap;
use at_host::{line_rate, logger, script, serial, task};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    logger::init(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("at-host: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = task::run_as_task(&runtime, async move { run(&cli).await });
    // Do not wait for a blocked read of standard input.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("at-host: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the mode `cli` asks for until it ends or the process is told to stop.
async fn run(cli: &Cli) -> Result<(), String> {
    // The network comes first: a TAP device that cannot be used is reported before
    // the serial line opens.
    let uplink = match cli.tap()? {
        Some(settings) => {
            let tap = Tap::open(&settings)?;
            eprintln!("at-host: network on {}", tap.describe());
            Uplink::Tap(Box::new(tap))
        }
        None => Uplink::Host,
    };
    let credentials = HostCredentials::open(cli.state_dir.as_deref())?;
    let mut board = Board {
        profile: cli.profile.into(),
        uplink,
        wifi: cli.wifi.clone(),
        // Paced at --baud from each power-on; unpaced (0) without it.
        line_rate: line_rate::LineRate::new(cli.baud.unwrap_or(0)),
        credentials,
    };
    let board = &mut board;
    log::info!(
        "at-host {} starting: serial line {}, profile {:?}",
        env!("CARGO_PKG_VERSION"),
        cli.script.as_ref().map_or_else(
            || cli.serial.to_string(),
            |s| format!("script {}", s.display())
        ),
        cli.profile
    );
    let work = async {
        if let Some(script) = &cli.script {
            return script::run(script, board, cli.result_timeout()).await;
        }
        match &cli.serial {
            SerialLine::Stdio => serial::stdio::run(board).await,
            SerialLine::Pty(path) => serial::pty::run(path, board).await,
            SerialLine::Tcp(addr) => serial::tcp::run(addr, board).await,
        }
    };
    tokio::select! {
        result = work => result,
        signal = stop_signal() => {
            // Dropping `work` cleans up (e.g. removes the pseudo-terminal's link).
            eprintln!("at-host: {signal}, stopping");
            log::info!("stopping on a signal ({signal})");
            Ok(())
        }
    }
}

/// Waits for SIGINT or SIGTERM and names it.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        eprintln!("at-host: cannot watch for signals; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => "interrupted",
        _ = terminate.recv() => "terminated",
    }
}
