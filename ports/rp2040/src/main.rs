//! AT-command MQTT modem firmware for the WIZnet W5500-EVB-Pico (RP2040 + W5500).
//!
//! Wiring: the AT UART is UART0 on GP0 (TX, pin 1) and GP1 (RX, pin 2) of the Pico
//! header, 115200 8N1, 3.3 V logic; connect the host's RX to GP0, its TX to GP1 and GND
//! to GND (e.g. through a 3.3 V USB-serial adapter). The network is the on-board WIZnet
//! W5500 Ethernet controller on SPI0: SCK GP18, MOSI GP19, MISO GP16, CS GP17, RST GP20,
//! INT GP21, with the RJ45 jack on the board; the W5500 runs in MACRAW mode under the
//! embassy-net TCP/IP stack, which gets its address from DHCP. The MAC address is derived
//! from the QSPI flash's unique ID; the ring oscillator's random bit seeds the TCP/IP stack
//! and the TLS handshakes. Logs go out over RTT (defmt) through the SWD header.

#![no_std]
#![no_main]

use at_core::{Engine, Profile, Stop, UrcQueue};
use at_mqtt::budget::{
    MQTT_RX_BYTES, MQTT_TX_BYTES, PAYLOAD_BYTES, SUBSCRIPTIONS, TCP_SOCKET_BYTES,
    TLS_RECORD_RX_BYTES, TLS_RECORD_TX_BYTES, URC_QUEUE_BYTES,
};
use at_mqtt::station::{EmbassyInterface, IpCommands};
use at_mqtt::{EmbassyNetwork, MqttCommands, Options, Runner, Shared, TlsPsk};
use cortex_m::peripheral::SCB;
use defmt::{info, warn};
use embassy_executor::Spawner;
use embassy_futures::select::{Either3, select3};
use embassy_net::{DhcpConfig, Stack, StackResources};
use embassy_net_wiznet::chip::W5500;
use embassy_rp::clocks::RoscRng;
use embassy_rp::flash::{Blocking, Flash};
use embassy_rp::gpio::{Input, Level, Output, Pull};
use embassy_rp::peripherals::{DMA_CH0, DMA_CH1, SPI0, UART0};
use embassy_rp::spi::{Async, Spi};
use embassy_rp::uart::{BufferedInterruptHandler, BufferedUart, BufferedUartRx, BufferedUartTx};
use embassy_rp::{bind_interrupts, dma, spi, uart};
use embassy_time::Delay;
use embedded_hal_bus::spi::ExclusiveDevice;
use static_cell::{ConstStaticCell, StaticCell};
use {defmt_rtt as _, panic_probe as _};

/// The board name `AT+GMR` reports.
const BOARD: &str = "w5500-evb-pico";
/// Sockets the network stack can hold at once: the DHCP client, DNS, and TCP for MQTT.
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
    info!("{} starting", BOARD);

    // The AT UART: UART0 on GP0 (TX) / GP1 (RX), 115200 8N1.
    static UART_TX: StaticCell<[u8; 512]> = StaticCell::new();
    static UART_RX: StaticCell<[u8; 1024]> = StaticCell::new();
    let mut uart_config = uart::Config::default();
    uart_config.baudrate = 115_200;
    let uart = BufferedUart::new(
        p.UART0,
        p.PIN_0,
        p.PIN_1,
        Irqs,
        UART_TX.init([0; 512]),
        UART_RX.init([0; 1024]),
        uart_config,
    );
    let (tx, rx) = uart.split();

    // A locally administered MAC address from the flash's 64-bit unique ID.
    let mut flash = Flash::<_, Blocking, FLASH_BYTES>::new_blocking(p.FLASH);
    let mut flash_id = [0; 8];
    flash
        .blocking_unique_id(&mut flash_id)
        .expect("reading the flash unique ID");
    let mut mac = [0x02, 0, 0, 0, 0, 0];
    for chunk in flash_id.chunks(5) {
        for (slot, byte) in mac.iter_mut().skip(1).zip(chunk) {
            *slot ^= byte;
        }
    }

    // The W5500 on SPI0. clk_peri / 4: the W5500 is specified up to 33.3 MHz.
    let mut spi_config = spi::Config::default();
    spi_config.frequency = 31_250_000;
    let spi = Spi::new(
        p.SPI0, p.PIN_18, p.PIN_19, p.PIN_16, p.DMA_CH0, p.DMA_CH1, Irqs, spi_config,
    );
    let Ok(spi) = ExclusiveDevice::new(spi, Output::new(p.PIN_17, Level::High), Delay);
    let w5500_int = Input::new(p.PIN_21, Pull::Up);
    let w5500_reset = Output::new(p.PIN_20, Level::High);
    static W5500_STATE: StaticCell<embassy_net_wiznet::State<4, 4>> = StaticCell::new();
    let (device, eth_runner) = embassy_net_wiznet::new(
        mac,
        W5500_STATE.init(embassy_net_wiznet::State::new()),
        spi,
        w5500_int,
        w5500_reset,
    )
    .await
    .expect("W5500 did not answer on SPI0");
    spawner.spawn(eth_task(eth_runner).expect("Ethernet task already running"));

    // The TCP/IP stack on the W5500, DHCP.
    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let (net, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(DhcpConfig::default()),
        RESOURCES.init(StackResources::new()),
        RoscRng.next_u64(),
    );
    spawner.spawn(net_task(runner).expect("network task already running"));

    modem(net, rx, tx).await
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

/// The modem: the AT engine on the UART with the MQTT and network commands, the MQTT
/// runner that owns the broker connection, and the network log, joined in this one task
/// (the URC queue and the shared MQTT state are not `Sync`, so they live in this
/// future). `AT+RST` resets the chip; a UART error restarts the engine only.
async fn modem(net: Stack<'static>, mut rx: BufferedUartRx, mut tx: BufferedUartTx) -> ! {
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

    let urcs = UrcQueue::<URC_QUEUE_BYTES>::new();
    let shared = Shared::<PAYLOAD_BYTES, SUBSCRIPTIONS>::new(Options::new(Profile::Seed));
    let mut engine = Engine::new(at_core::Config::new(BOARD), &urcs);
    let mut commands = (
        MqttCommands::new(&shared),
        IpCommands::new(EmbassyInterface::new(net)),
    );
    let network = EmbassyNetwork::new(net, TCP_RX.take(), TCP_TX.take());
    // The ring oscillator's random bit: the RP2040's only entropy source.
    let mut rng = RoscRng;
    let tls = TlsPsk::new(&mut rng, TLS_RX.take(), TLS_TX.take());
    let mut runner =
        Runner::new(&shared, &urcs, network, MQTT_RX.take(), MQTT_TX.take()).with_tls_psk(tls);
    info!(
        "largest inbound MQTT packet: {} bytes",
        runner.max_inbound_packet()
    );
    let at = async {
        loop {
            match engine.run(&mut rx, &mut tx, &mut commands).await {
                Ok(Stop::Restart) => SCB::sys_reset(),
                Ok(_) => {}
                // Errors that mean the line is gone, or a write error, end a run; start again.
                Err(error) => warn!("AT UART error: {}", defmt::Debug2Format(&error)),
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
            info!("network up: {}", config.address);
        }
        net.wait_config_down().await;
        info!("network down");
    }
}
