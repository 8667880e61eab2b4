//! The ESP-AT set-up commands through the real engine on a mock UART: the results a
//! port acts on (`Stop::BaudRate` after `AT+UART_CUR`'s `OK`, `Stop::Restart` after
//! `AT+RESTORE`'s), the SNTP clock with a scripted time source, and the refusals.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::cell::Cell;
use std::rc::Rc;

use at_core::mock::{MockRx, MockTx, assert_bytes, block_on, cat};
use at_core::wire::{OK, READY};
use at_core::{Config, Engine, Stop, UrcQueue};
use at_mqtt::setup::{SetupCommands, TimeSource};

/// A time source answering `unix` (or nothing), counting the questions.
#[derive(Clone)]
struct Scripted {
    unix: Option<u64>,
    asked: Rc<Cell<u32>>,
}

impl TimeSource for Scripted {
    async fn unix_time(&mut self, _server: &str) -> Option<u64> {
        self.asked.set(self.asked.get() + 1);
        self.unix
    }
}

/// Runs `input` (echo off after the first `ATE0`) against fresh set-up commands; returns
/// why the engine stopped and the bytes it wrote.
fn run(input: &[u8], unix: Option<u64>) -> (Stop, Vec<u8>, u32) {
    let asked = Rc::new(Cell::new(0));
    let source = Scripted {
        unix,
        asked: Rc::clone(&asked),
    };
    let mut commands = SetupCommands::new(source, 115_200);
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(Config::new("test"), &urcs);
    let mut rx = MockRx::bytes(input);
    let mut tx = MockTx::new();
    let stop = match block_on(engine.run(&mut rx, &mut tx, &mut commands)) {
        Ok(stop) => stop,
        Err(e) => panic!("the engine failed: {e:?}"),
    };
    (stop, tx.out, asked.get())
}

/// `ATE0` and its answer, then `rest`'s lines.
fn quiet(rest: &[u8]) -> Vec<u8> {
    cat(&[b"ATE0\r\n", rest])
}

#[test]
fn uart_cur_answers_ok_at_the_old_rate_then_stops_for_the_port() {
    let (stop, out, _) = run(
        &quiet(b"AT+UART_CUR?\r\nAT+UART_CUR=921600,8,1,0,0\r\nAT\r\n"),
        None,
    );
    assert_eq!(stop, Stop::BaudRate(921_600));
    // `AT` after it waits for the next run, at the new rate.
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"ATE0\r\n",
            OK,
            b"+UART_CUR:115200,8,1,0,0\r\n",
            OK,
            OK,
        ]),
    );
}

#[test]
fn uart_cur_refuses_what_the_modem_cannot_do() {
    let input = quiet(
        b"AT+SYSLOG=1\r\nAT+UART_CUR=9600,7,1,0,0\r\nAT+UART_CUR=9600,8,2,0,0\r\n\
          AT+UART_CUR=9600,8,1,1,0\r\nAT+UART_CUR=9600,8,1,0,3\r\nAT+UART_CUR=79,8,1,0,0\r\n\
          AT+UART_CUR=9600,8,1,0\r\nAT+UART_CUR?\r\n",
    );
    let (stop, out, _) = run(&input, None);
    assert_eq!(stop, Stop::EndOfInput);
    let unsupported = b"ERR CODE:0x010a0002\r\n\r\nERROR\r\n".as_slice();
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"ATE0\r\n",
            OK,
            OK,
            unsupported,
            unsupported,
            unsupported,
            unsupported,
            b"ERR CODE:0x01070000\r\n\r\nERROR\r\n",
            b"ERR CODE:0x01060504\r\n\r\nERROR\r\n",
            // Nothing changed.
            b"+UART_CUR:115200,8,1,0,0\r\n",
            OK,
        ]),
    );
}

#[test]
fn restore_answers_ok_then_restarts() {
    let (stop, out, _) = run(&quiet(b"AT+SYSSTORE=0\r\nAT+RESTORE\r\nAT\r\n"), None);
    assert_eq!(stop, Stop::Restart);
    assert_bytes(&out, &cat(&[READY, b"ATE0\r\n", OK, OK, OK]));
}

/// 2021-10-19 17:47:56 UTC.
const UNIX: u64 = 1_634_665_676;

#[test]
fn sntp_time_is_the_epoch_until_set_then_local_time_and_asked_once() {
    let input = quiet(
        b"AT+CIPSNTPTIME?\r\nAT+CIPSNTPCFG=1,530,\"a.example\",\"b.example\"\r\n\
          AT+CIPSNTPCFG?\r\nAT+CIPSNTPTIME?\r\nAT+CIPSNTPTIME?\r\nAT+SYSTIMESTAMP?\r\n",
    );
    let (_, out, asked) = run(&input, Some(UNIX));
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"ATE0\r\n",
            OK,
            b"+CIPSNTPTIME:Thu Jan 01 00:00:00 1970\r\n",
            OK,
            OK,
            b"+CIPSNTPCFG:1,530,\"a.example\",\"b.example\"\r\n",
            OK,
            // UTC+05:30.
            b"+CIPSNTPTIME:Tue Oct 19 23:17:56 2021\r\n",
            OK,
            b"+CIPSNTPTIME:Tue Oct 19 23:17:56 2021\r\n",
            OK,
            b"+SYSTIMESTAMP:1634665676\r\n",
            OK,
        ]),
    );
    // The first server answered; the clock then runs without asking again.
    assert_eq!(asked, 1);
}

#[test]
fn sntp_off_or_unanswered_keeps_the_clock_and_systimestamp_sets_it() {
    let input = quiet(
        b"AT+SYSTIMESTAMP=1634665676\r\nAT+CIPSNTPTIME?\r\nAT+CIPSNTPCFG=1,-8\r\n\
          AT+CIPSNTPCFG?\r\nAT+CIPSNTPTIME?\r\n",
    );
    let (_, out, asked) = run(&input, None);
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"ATE0\r\n",
            OK,
            OK,
            // SNTP off: the clock the host set, no question asked.
            b"+CIPSNTPTIME:Tue Oct 19 17:47:56 2021\r\n",
            OK,
            OK,
            b"+CIPSNTPCFG:1,-8,\"cn.ntp.org.cn\",\"ntp.sjtu.edu.cn\",\"us.pool.ntp.org\"\r\n",
            OK,
            // No server answers: the host's time stays, in UTC-8.
            b"+CIPSNTPTIME:Tue Oct 19 09:47:56 2021\r\n",
            OK,
        ]),
    );
    // Each default server was asked once.
    assert_eq!(asked, 3);
}

#[test]
fn stored_settings_read_back() {
    let input = quiet(
        b"AT+CWINIT?\r\nAT+CWINIT=0\r\nAT+CWINIT?\r\nAT+CIPDINFO=1\r\nAT+CIPDINFO?\r\n\
          AT+CIPRECVMODE=1\r\nAT+CIPRECVMODE?\r\nAT+CWAUTOCONN=2\r\nAT+CIPMUX=1,1\r\n",
    );
    let (_, out, _) = run(&input, None);
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"ATE0\r\n",
            OK,
            b"+CWINIT:1\r\n",
            OK,
            OK,
            b"+CWINIT:0\r\n",
            OK,
            OK,
            b"+CIPDINFO:true\r\n",
            OK,
            OK,
            b"+CIPRECVMODE:1\r\n",
            OK,
            b"\r\nERROR\r\n",
            b"\r\nERROR\r\n",
        ]),
    );
}
