//! AT-command MQTT modem firmware for the ESP32-C3 (ESP32-C3-DevKitM-1 / DevKitC-02).
//!
//! Wiring: the AT UART is UART1 on GPIO7 (TX) and GPIO6 (RX), 115200 8N1, 3.3 V logic,
//! the pins ESP-AT uses for its AT port on the ESP32-C3, so hosts wired for ESP-AT fit
//! unchanged; connect the host's RX to GPIO7, its TX to GPIO6 and GND to GND. UART0
//! (GPIO21 TX / GPIO20 RX, behind the DevKit's USB-serial bridge) stays the flashing and
//! log port. The network is the on-chip Wi-Fi in station mode under the embassy-net
//! TCP/IP stack with DHCP: the radio is started at boot but joins no access point, so the
//! station stays idle until a network is configured over AT (`AT+CWJAP`).

#![no_std]
#![no_main]

mod station;
mod uart;

use at_mqtt::budget::TCP_SOCKET_BYTES;
use at_mqtt::setup::{EmbassySntp, SetupCommands};
use at_mqtt::station::{EmbassyInterface, IpCommands, WifiCommands, log_network};
use at_mqtt::{EmbassyNetwork, Modem, ModemResources};
use embassy_executor::Spawner;
use embassy_net::{DhcpConfig, StackResources};
use esp_backtrace as _;
use esp_hal::clock::CpuClock;
use esp_hal::rng::Rng;
use esp_hal::timer::timg::TimerGroup;
use esp_hal::uart::Uart;
use esp_radio::wifi::{ControllerConfig, Interface, WifiController};
use log::info;
use static_cell::{ConstStaticCell, StaticCell};

use crate::station::Station;
use crate::uart::UartInput;

esp_bootloader_esp_idf::esp_app_desc!();

/// The board name `AT+GMR` reports.
const BOARD: &str = "esp32c3";
/// Sockets the network stack can hold at once: the DHCP client, DNS, TCP for MQTT, and
/// the UDP socket of an SNTP exchange.
const SOCKETS: usize = 4;

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    let peripherals = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    // The Wi-Fi driver allocates: 64 KiB in the RAM the bootloader used, plus 36 KiB.
    esp_alloc::heap_allocator!(#[esp_hal::ram(reclaimed)] size: 64 * 1024);
    esp_alloc::heap_allocator!(size: 36 * 1024);
    // The log (this port's and the libraries') goes out on UART0.
    esp_println::logger::init_logger(log::LevelFilter::Info);
    info!("{} starting", BOARD);

    // The scheduler the Wi-Fi driver runs on; it also runs this async main.
    let timg0 = TimerGroup::new(peripherals.TIMG0);
    esp_rtos::start(timg0.timer0, peripherals.FROM_CPU_INTR0);

    // The AT UART: UART1 on GPIO7 (TX) / GPIO6 (RX), 115200 8N1.
    let uart_config = esp_hal::uart::Config::default().with_baudrate(115_200);
    let (rx, mut tx) = Uart::new(peripherals.UART1, uart_config)
        .expect("UART1 configuration")
        .with_tx(peripherals.GPIO7)
        .with_rx(peripherals.GPIO6)
        .into_async()
        .split();
    spawner.spawn(uart::rx_task(rx).expect("UART task already running"));

    // Wi-Fi: the controller starts the radio in station mode with no network configured,
    // so it stays idle until it is told to join one.
    let wifi = WifiController::new(peripherals.WIFI, ControllerConfig::default())
        .expect("Wi-Fi initialisation");
    // With the radio initialised the hardware RNG is a true random source (esp-radio
    // registers the radio as its entropy source): it seeds the TCP/IP stack and supplies
    // the TLS handshakes.
    #[cfg(feature = "tls-psk")]
    let mut trng = esp_hal::rng::Trng::try_new().ok();
    let rng = Rng::new();
    let seed = (u64::from(rng.random()) << 32) | u64::from(rng.random());
    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let (net, runner) = embassy_net::new(
        Interface::station(),
        embassy_net::Config::dhcpv4(DhcpConfig::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    spawner.spawn(net_task(runner).expect("network task already running"));

    // The modem, in this task: the AT engine with the MQTT, IP and Wi-Fi commands (which
    // keep `wifi`, and so the radio, alive), the MQTT runner (scheme 2 when the true
    // random source is there) and the network log. `AT+RST` resets the chip; a UART
    // error restarts the engine only.
    static MODEM: ConstStaticCell<ModemResources> = ConstStaticCell::new(ModemResources::new());
    static TCP: ConstStaticCell<[[u8; TCP_SOCKET_BYTES]; 2]> =
        ConstStaticCell::new([[0; TCP_SOCKET_BYTES]; 2]);
    let [tcp_rx, tcp_tx] = TCP.take();
    let network = EmbassyNetwork::new(net, tcp_rx, tcp_tx);
    let extra = (
        (
            IpCommands::new(EmbassyInterface::new(net)),
            WifiCommands::new(Station::new(wifi, net)),
        ),
        SetupCommands::new(EmbassySntp::new(net), 115_200),
    );
    let mut modem = Modem::new(MODEM.take(), at_core::Config::new(BOARD), network, extra);
    #[cfg(feature = "tls-psk")]
    if let Some(rng) = trng.as_mut() {
        modem = modem.with_tls_psk(rng);
    } else {
        log::warn!("no true random source: scheme 2 (TLS-PSK) is off");
    }
    // Certificates (feature `tls-cert`): uploaded over AT (`AT+MQTTCERT`, `AT+SYSMFG`)
    // into RAM, lost at reset: three items (e.g. the CA, client certificate and key of 0).
    #[cfg(feature = "tls-cert")]
    static CREDENTIALS: ConstStaticCell<at_mqtt::credentials::RamCredentials<1024, 3>> =
        ConstStaticCell::new(at_mqtt::credentials::RamCredentials::new());
    #[cfg(feature = "tls-cert")]
    let mut modem = modem.with_credentials(CREDENTIALS.take());
    let reset = || esp_hal::system::software_reset();
    // `AT+UART_CUR`: UART1 has one clock divider for both directions.
    let set_baud_rate = |_: &mut _, tx: &mut esp_hal::uart::UartTx<'_, _>, baud| {
        let config = esp_hal::uart::Config::default().with_baudrate(baud);
        if tx.apply_config(&config).is_err() {
            log::warn!("UART1 cannot run at {} baud", baud);
        }
    };
    match modem
        .run(
            &mut UartInput::default(),
            &mut tx,
            reset,
            set_baud_rate,
            log_network(net),
        )
        .await {}
}

/// Drives the TCP/IP stack: Wi-Fi frames in and out, DHCP, timers.
#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, Interface>) -> ! {
    runner.run().await
}
