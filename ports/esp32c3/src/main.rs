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

use at_core::{Engine, Profile, Stop, UrcQueue};
use at_mqtt::budget::{
    MQTT_RX_BYTES, MQTT_TX_BYTES, PAYLOAD_BYTES, SUBSCRIPTIONS, TCP_SOCKET_BYTES,
    TLS_RECORD_RX_BYTES, TLS_RECORD_TX_BYTES, URC_QUEUE_BYTES,
};
use at_mqtt::station::{EmbassyInterface, IpCommands, WifiCommands};
use at_mqtt::{EmbassyNetwork, MqttCommands, Options, Runner, Shared, TlsPsk};
use embassy_executor::Spawner;
use embassy_futures::select::{Either3, select3};
use embassy_net::{DhcpConfig, Stack, StackResources};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::pipe::Pipe;
use esp_backtrace as _;
use esp_hal::Async;
use esp_hal::clock::CpuClock;
use esp_hal::rng::{Rng, Trng};
use esp_hal::timer::timg::TimerGroup;
use esp_hal::uart::{Uart, UartRx, UartTx};
use esp_println::println;
use esp_radio::wifi::{ControllerConfig, Interface, WifiController};
use static_cell::{ConstStaticCell, StaticCell};

use crate::station::Station;

esp_bootloader_esp_idf::esp_app_desc!();

/// The board name `AT+GMR` reports.
const BOARD: &str = "esp32c3";
/// Sockets the network stack can hold at once: the DHCP client, DNS, and TCP for MQTT.
const SOCKETS: usize = 4;
/// Received AT bytes buffered in RAM beyond the UART's 128-byte hardware FIFO.
const UART_RX_BYTES: usize = 1024;

/// AT input on its way from the UART1 receiver to the engine.
static UART_INPUT: Pipe<CriticalSectionRawMutex, UART_RX_BYTES> = Pipe::new();

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    let peripherals = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    // The Wi-Fi driver allocates: 64 KiB in the RAM the bootloader used, plus 36 KiB.
    esp_alloc::heap_allocator!(#[esp_hal::ram(reclaimed)] size: 64 * 1024);
    esp_alloc::heap_allocator!(size: 36 * 1024);
    println!("{} starting", BOARD);

    // The scheduler the Wi-Fi driver runs on; it also runs this async main.
    let timg0 = TimerGroup::new(peripherals.TIMG0);
    esp_rtos::start(timg0.timer0, peripherals.FROM_CPU_INTR0);

    // The AT UART: UART1 on GPIO7 (TX) / GPIO6 (RX), 115200 8N1.
    let uart_config = esp_hal::uart::Config::default().with_baudrate(115_200);
    let (rx, tx) = Uart::new(peripherals.UART1, uart_config)
        .expect("UART1 configuration")
        .with_tx(peripherals.GPIO7)
        .with_rx(peripherals.GPIO6)
        .into_async()
        .split();
    spawner.spawn(uart_rx_task(rx).expect("UART task already running"));

    // Wi-Fi: the controller starts the radio in station mode with no network configured,
    // so it stays idle until it is told to join one.
    let wifi = WifiController::new(peripherals.WIFI, ControllerConfig::default())
        .expect("Wi-Fi initialisation");
    // With the radio initialised the hardware RNG is a true random source (esp-radio
    // registers the radio as its entropy source): it seeds the TCP/IP stack and supplies
    // the TLS handshakes.
    let trng = Trng::try_new().ok();
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

    modem(net, wifi, tx, trng).await
}

/// Moves received bytes from UART1's hardware FIFO into [`UART_INPUT`], so that input
/// keeps flowing while the engine writes a long response. Line errors (framing, parity,
/// FIFO overflow) drop the bytes concerned and are logged; reading goes on.
#[embassy_executor::task]
async fn uart_rx_task(mut rx: UartRx<'static, Async>) -> ! {
    let mut chunk = [0; 64];
    loop {
        match rx.read_async(&mut chunk).await {
            Ok(n) => {
                UART_INPUT
                    .write_all(chunk.get(..n).unwrap_or_default())
                    .await;
            }
            Err(error) => println!("AT UART receive error: {}", error),
        }
    }
}

/// Drives the TCP/IP stack: Wi-Fi frames in and out, DHCP, timers.
#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, Interface>) -> ! {
    runner.run().await
}

/// The modem: the AT engine on the UART with the MQTT, network and Wi-Fi commands, the
/// MQTT runner that owns the broker connection, and the network log, joined in this one
/// task (the URC queue and the shared MQTT state are not `Sync`, so they live in this
/// future). `AT+RST` resets the chip; a UART error restarts the engine only.
///
/// `wifi` is moved into the Wi-Fi commands, which keep it (and so the radio) alive. With
/// `trng` (the hardware RNG while the radio runs) scheme 2 (TLS-PSK) is available.
async fn modem(
    net: Stack<'static>,
    wifi: WifiController<'static>,
    mut tx: UartTx<'static, Async>,
    trng: Option<Trng>,
) -> ! {
    static TCP_RX: ConstStaticCell<[u8; TCP_SOCKET_BYTES]> =
        ConstStaticCell::new([0; TCP_SOCKET_BYTES]);
    static TCP_TX: ConstStaticCell<[u8; TCP_SOCKET_BYTES]> =
        ConstStaticCell::new([0; TCP_SOCKET_BYTES]);
    static MQTT_RX: ConstStaticCell<[u8; MQTT_RX_BYTES]> = ConstStaticCell::new([0; MQTT_RX_BYTES]);
    static MQTT_TX: ConstStaticCell<[u8; MQTT_TX_BYTES]> = ConstStaticCell::new([0; MQTT_TX_BYTES]);
    static TLS_RX: ConstStaticCell<[u8; TLS_RECORD_RX_BYTES]> =
        ConstStaticCell::new([0; TLS_RECORD_RX_BYTES]);
    static TLS_TX: ConstStaticCell<[u8; TLS_RECORD_TX_BYTES]> =
        ConstStaticCell::new([0; TLS_RECORD_TX_BYTES]);

    let mut rx = &UART_INPUT;
    let urcs = UrcQueue::<URC_QUEUE_BYTES>::new();
    let shared = Shared::<PAYLOAD_BYTES, SUBSCRIPTIONS>::new(Options::new(Profile::Seed));
    let mut engine = Engine::new(at_core::Config::new(BOARD), &urcs);
    let mut commands = (
        MqttCommands::new(&shared),
        (
            IpCommands::new(EmbassyInterface::new(net)),
            WifiCommands::new(Station::new(wifi, net)),
        ),
    );
    let network = EmbassyNetwork::new(net, TCP_RX.take(), TCP_TX.take());
    let mut runner = Runner::new(&shared, &urcs, network, MQTT_RX.take(), MQTT_TX.take());
    let mut trng = trng;
    if let Some(rng) = trng.as_mut() {
        runner = runner.with_tls_psk(TlsPsk::new(rng, TLS_RX.take(), TLS_TX.take()));
    } else {
        println!("no true random source: scheme 2 (TLS-PSK) is off");
    }
    println!(
        "largest inbound MQTT packet: {} bytes",
        runner.max_inbound_packet()
    );
    let at = async {
        loop {
            match engine.run(&mut rx, &mut tx, &mut commands).await {
                Ok(Stop::Restart) => esp_hal::system::software_reset(),
                Ok(_) => {}
                Err(error) => println!("AT UART error: {:?}", error),
            }
        }
    };
    match select3(at, runner.run(), log_network(net)).await {
        Either3::First(never) | Either3::Second(never) | Either3::Third(never) => never,
    }
}

/// Logs each change of the DHCP lease.
async fn log_network(net: Stack<'static>) -> ! {
    loop {
        net.wait_config_up().await;
        if let Some(config) = net.config_v4() {
            println!("network up: {}", config.address);
        }
        net.wait_config_down().await;
        println!("network down");
    }
}
