//! AT-command MQTT modem firmware for the WIZnet W5500-EVB-Pico (RP2040 + W5500).
//!
//! Wiring: the AT UART is UART0 on GP0 (TX, pin 1) and GP1 (RX, pin 2) of the Pico
//! header, 115200 8N1, 3.3 V logic; connect the host's RX to GP0, its TX to GP1 and GND
//! to GND (e.g. through a 3.3 V USB-serial adapter). The network is the on-board WIZnet
//! W5500 Ethernet controller on SPI0: SCK GP18, MOSI GP19, MISO GP16, CS GP17, RST GP20,
//! INT GP21, with the RJ45 jack on the board; the W5500 runs in MACRAW mode under the
//! embassy-net TCP/IP stack, which gets its address from DHCP. The MAC address is derived
//! from the QSPI flash's unique ID; the ring oscillator's random bit seeds the TCP/IP stack
//! and the TLS handshakes. With the `defmt` feature, logs go out over RTT through the SWD
//! header; without it a panic resets the chip.

#![no_std]
#![no_main]

use core::future::pending;

use at_mqtt::absent::OrAbsent;
use at_mqtt::budget::TCP_SOCKET_BYTES;
use at_mqtt::setup::{EmbassySntp, SetupCommands};
use at_mqtt::station::{EmbassyInterface, IpCommands, log_network, mac_from_unique_id};
use at_mqtt::{EmbassyNetwork, Modem, ModemResources};
use cortex_m::peripheral::SCB;
use embassy_executor::Spawner;
use embassy_net::{DhcpConfig, Stack, StackResources};
use embassy_net_wiznet::chip::W5500;
use embassy_rp::clocks::RoscRng;
use embassy_rp::flash::{Blocking, Flash};
use embassy_rp::gpio::{Input, Level, Output, Pull};
use embassy_rp::peripherals::{DMA_CH0, DMA_CH1, SPI0, UART0};
use embassy_rp::spi::{Async, Spi};
use embassy_rp::uart::{BufferedInterruptHandler, BufferedUart};
use embassy_rp::{bind_interrupts, dma, spi, uart};
use embassy_time::Delay;
use embedded_hal_bus::spi::ExclusiveDevice;
#[cfg(not(feature = "defmt"))]
use panic_reset as _;
use static_cell::{ConstStaticCell, StaticCell};
#[cfg(feature = "defmt")]
use {defmt_rtt as _, panic_probe as _};

/// The board name `AT+GMR` reports.
const BOARD: &str = "w5500-evb-pico";
/// Sockets the network stack can hold at once: the DHCP client, DNS, TCP for MQTT, and
/// the UDP socket of an SNTP exchange.
const SOCKETS: usize = 4;
/// The W5500-EVB-Pico's QSPI flash (W25Q16JV): 2 MiB.
const FLASH_BYTES: usize = 2 * 1024 * 1024;

/// The W5500 on SPI0 with its chip select, interrupt and reset lines.
type EthRunner = embassy_net_wiznet::Runner<
    'static,
    W5500,
    ExclusiveDevice<Spi<'static, SPI0, Async>, Output<'static>, Delay>,
    Input<'static>,
    Output<'static>,
>;

bind_interrupts!(struct Irqs {
    UART0_IRQ => BufferedInterruptHandler<UART0>;
    DMA_IRQ_0 => dma::InterruptHandler<DMA_CH0>, dma::InterruptHandler<DMA_CH1>;
});

#[embassy_executor::main(
    executor = "embassy_rp::executor::Executor",
    entry = "cortex_m_rt::entry"
)]
async fn main(spawner: Spawner) -> ! {
    let p = embassy_rp::init(embassy_rp::config::Config::default());
    #[cfg(feature = "defmt")]
    defmt::info!("{} starting", BOARD);

    // The AT UART: UART0 on GP0 (TX) / GP1 (RX), 115200 8N1.
    static UART_TX: ConstStaticCell<[u8; 512]> = ConstStaticCell::new([0; 512]);
    static UART_RX: ConstStaticCell<[u8; 1024]> = ConstStaticCell::new([0; 1024]);
    let mut uart_config = uart::Config::default();
    uart_config.baudrate = 115_200;
    let (tx, rx) = (UART_TX.take(), UART_RX.take());
    let uart = BufferedUart::new(p.UART0, p.PIN_0, p.PIN_1, Irqs, tx, rx, uart_config);
    let (mut tx, mut rx) = uart.split();

    // A locally administered MAC address from the flash's 64-bit unique ID.
    let mut flash = Flash::<_, Blocking, FLASH_BYTES>::new_blocking(p.FLASH);
    let mut flash_id = [0; 8];
    let read = flash.blocking_unique_id(&mut flash_id);
    read.expect("reading the flash unique ID");

    // The W5500 on SPI0. clk_peri / 4: the W5500 is specified up to 33.3 MHz.
    let mut spi_config = spi::Config::default();
    spi_config.frequency = 31_250_000;
    let spi = Spi::new(
        p.SPI0, p.PIN_18, p.PIN_19, p.PIN_16, p.DMA_CH0, p.DMA_CH1, Irqs, spi_config,
    );
    let Ok(spi) = ExclusiveDevice::new(spi, Output::new(p.PIN_17, Level::High), Delay);
    let w5500_int = Input::new(p.PIN_21, Pull::Up);
    let w5500_reset = Output::new(p.PIN_20, Level::High);
    static W5500_STATE: StaticCell<embassy_net_wiznet::State<2, 2>> = StaticCell::new();
    let state = W5500_STATE.init(embassy_net_wiznet::State::new());
    let mac = mac_from_unique_id(&flash_id);
    let w5500 = embassy_net_wiznet::new(mac, state, spi, w5500_int, w5500_reset).await;
    // Without the W5500 the modem still answers AT; its network commands answer ERROR.
    let net = match w5500 {
        Ok((device, eth_runner)) => Some(start_network(spawner, device, eth_runner)),
        Err(_e) => {
            #[cfg(feature = "defmt")]
            defmt::error!(
                "W5500 did not answer on SPI0 ({}): no network",
                defmt::Debug2Format(&_e)
            );
            None
        }
    };

    // The modem in this task, scheme 2 with the ring oscillator's random bit (the RP2040's
    // only entropy source); `AT+RST` resets the chip.
    static MODEM: ConstStaticCell<ModemResources> = ConstStaticCell::new(ModemResources::new());
    static TCP: ConstStaticCell<[[u8; TCP_SOCKET_BYTES]; 2]> =
        ConstStaticCell::new([[0; TCP_SOCKET_BYTES]; 2]);
    let (network, extra) = match net {
        Some(net) => {
            let [tcp_rx, tcp_tx] = TCP.take();
            let network = EmbassyNetwork::new(net, tcp_rx, tcp_tx);
            let ip = IpCommands::new(EmbassyInterface::new(net));
            let sntp = EmbassySntp::new(net);
            let extra = (OrAbsent::present(ip), OrAbsent::present(sntp));
            (OrAbsent::present(network), extra)
        }
        None => (OrAbsent::absent(), (OrAbsent::absent(), OrAbsent::absent())),
    };
    let (ip, sntp) = extra;
    let extra = (ip, SetupCommands::new(sntp, uart_config.baudrate));
    let log = async {
        match net {
            Some(net) => log_network(net).await,
            None => pending().await,
        }
    };
    #[cfg(feature = "tls-psk")]
    let mut rng = RoscRng;
    let mut modem = Modem::new(MODEM.take(), at_core::Config::new(BOARD), network, extra);
    #[cfg(feature = "tls-psk")]
    {
        modem = modem.with_tls_psk(&mut rng);
    }
    // Certificates (feature `tls-cert`): uploaded over AT (`AT+MQTTCERT`, `AT+SYSMFG`)
    // into RAM, lost at reset: three items (e.g. the CA, client certificate and key of 0).
    #[cfg(feature = "tls-cert")]
    static CREDENTIALS: ConstStaticCell<at_mqtt::credentials::RamCredentials<1024, 3>> =
        ConstStaticCell::new(at_mqtt::credentials::RamCredentials::new());
    #[cfg(feature = "tls-cert")]
    let mut modem = modem.with_credentials(CREDENTIALS.take());
    let reset = || SCB::sys_reset();
    let set_baud_rate = |_: &mut _, _: &mut _, baud| set_uart0_baud_rate(baud);
    match modem.run(&mut rx, &mut tx, reset, set_baud_rate, log).await {}
}

/// Starts the Ethernet task and the TCP/IP stack (DHCP) on the W5500.
fn start_network(
    spawner: Spawner,
    device: embassy_net_wiznet::Device<'static>,
    eth_runner: EthRunner,
) -> Stack<'static> {
    spawner.spawn(eth_task(eth_runner).expect("Ethernet task already running"));
    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let (net, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(DhcpConfig::default()),
        RESOURCES.init(StackResources::new()),
        RoscRng.next_u64(),
    );
    spawner.spawn(net_task(runner).expect("network task already running"));
    net
}

/// `AT+UART_CUR`: UART0's divisors for `baud` from clk_peri (RP2040 datasheet 4.2.7.1),
/// latched by a write of the line control register. embassy-rp changes the rate only on
/// an unsplit `BufferedUart`; the modem holds its two halves (hence the `unstable-pac`
/// feature).
fn set_uart0_baud_rate(baud: u32) {
    let clock = u64::from(embassy_rp::clocks::clk_peri_freq());
    let divisor = 8 * clock / u64::from(baud.max(1));
    let (integer, fraction) = match divisor >> 7 {
        0 => (1, 0),
        i if i >= 65_535 => (65_535, 0),
        i => (i, (divisor & 0x7f).div_ceil(2)),
    };
    let uart = embassy_rp::pac::UART0;
    uart.uartibrd()
        .write(|w| w.set_baud_divint(u16::try_from(integer).unwrap_or(u16::MAX)));
    uart.uartfbrd()
        .write(|w| w.set_baud_divfrac(u8::try_from(fraction).unwrap_or(0)));
    uart.uartlcr_h().modify(|_| {});
    #[cfg(feature = "defmt")]
    defmt::info!("UART0 at {} baud", baud);
}

/// Moves Ethernet frames between the W5500 and the network stack.
#[embassy_executor::task]
async fn eth_task(runner: EthRunner) -> ! {
    runner.run().await
}

/// Drives the TCP/IP stack: frames in and out, DHCP, timers.
#[embassy_executor::task]
async fn net_task(
    mut runner: embassy_net::Runner<'static, embassy_net_wiznet::Device<'static>>,
) -> ! {
    runner.run().await
}
