//! AT-command MQTT modem firmware for the ST Nucleo-F429ZI (STM32F429ZI).
//!
//! Wiring, all on the board as shipped: the AT UART is USART3 on PD8 (TX) and PD9 (RX),
//! which the on-board ST-LINK/V2-1 exposes as its USB virtual COM port (115200 8N1, no
//! flow control). The network is the on-chip Ethernet MAC talking RMII to the board's
//! LAN8742A PHY (REF_CLK PA1, MDIO PA2, MDC PC1, CRS_DV PA7, RXD0 PC4, RXD1 PC5, TX_EN
//! PG11, TXD0 PG13, TXD1 PB13) on the RJ45 jack; the address comes from DHCP. The system
//! clock is 168 MHz from the ST-LINK's 8 MHz MCO (HSE bypass), with the 48 MHz PLL Q
//! output feeding the hardware RNG that seeds the TCP/IP stack and the TLS handshakes.
//! Logs go out over RTT (defmt).

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
use embassy_stm32::eth::{Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::peripherals::{ETH, ETH_SMA};
use embassy_stm32::rng::Rng;
use embassy_stm32::time::Hertz;
use embassy_stm32::usart::{BufferedUart, BufferedUartRx, BufferedUartTx};
use embassy_stm32::{Config, bind_interrupts, eth, peripherals, rng, usart};
use static_cell::{ConstStaticCell, StaticCell};
use {defmt_rtt as _, panic_probe as _};

/// The board name `AT+GMR` reports.
const BOARD: &str = "nucleo-f429zi";
/// Sockets the network stack can hold at once: the DHCP client, DNS, and TCP for MQTT.
const SOCKETS: usize = 4;

/// The Ethernet MAC with the LAN8742A PHY behind its station management interface.
type EthDevice = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
    HASH_RNG => rng::InterruptHandler<peripherals::RNG>;
    USART3 => usart::BufferedInterruptHandler<peripherals::USART3>;
});

#[embassy_executor::main]
async fn main(spawner: Spawner) -> ! {
    let p = embassy_stm32::init(clocks());
    info!("{} starting", BOARD);

    // The AT UART: USART3 on the ST-LINK virtual COM port, 115200 8N1.
    static UART_TX: StaticCell<[u8; 512]> = StaticCell::new();
    static UART_RX: StaticCell<[u8; 1024]> = StaticCell::new();
    let mut uart_config = usart::Config::default();
    uart_config.baudrate = 115_200;
    let uart = BufferedUart::new(
        p.USART3,
        p.PD9,
        p.PD8,
        UART_TX.init([0; 512]),
        UART_RX.init([0; 1024]),
        Irqs,
        uart_config,
    )
    .expect("USART3 configuration");
    let (tx, rx) = uart.split();

    // The network: Ethernet MAC + LAN8742A, a locally administered MAC address derived
    // from the chip's unique ID, DHCP.
    // The RNG also supplies the TLS handshakes' randomness.
    let mut rng = Rng::new(p.RNG, Irqs);
    let mut seed = [0; 8];
    rng.fill_bytes(&mut seed);
    static PACKETS: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let device: EthDevice = Ethernet::new(
        PACKETS.init(PacketQueue::new()),
        p.ETH,
        Irqs,
        p.PA1,
        p.PA7,
        p.PC4,
        p.PC5,
        p.PG13,
        p.PB13,
        p.PG11,
        mac_address(),
        p.ETH_SMA,
        p.PA2,
        p.PC1,
    );
    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let (net, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(DhcpConfig::default()),
        RESOURCES.init(StackResources::new()),
        u64::from_le_bytes(seed),
    );
    spawner.spawn(net_task(runner).expect("network task already running"));

    modem(net, rx, tx, rng).await
}

/// 168 MHz from the ST-LINK's 8 MHz MCO; PLL Q gives the 48 MHz the RNG needs.
fn clocks() -> Config {
    use embassy_stm32::rcc::{
        AHBPrescaler, APBPrescaler, Hse, HseMode, Pll, PllMul, PllPDiv, PllPreDiv, PllQDiv,
        PllSource, Sysclk,
    };
    let mut config = Config::default();
    config.rcc.hse = Some(Hse {
        freq: Hertz(8_000_000),
        mode: HseMode::Bypass,
    });
    config.rcc.pll_src = PllSource::HSE;
    config.rcc.pll = Some(Pll {
        prediv: PllPreDiv::DIV4,
        mul: PllMul::MUL168,
        divp: Some(PllPDiv::DIV2),
        divq: Some(PllQDiv::DIV7),
        divr: None,
    });
    config.rcc.sys = Sysclk::PLL1_P;
    config.rcc.ahb_pre = AHBPrescaler::DIV1;
    config.rcc.apb1_pre = APBPrescaler::DIV4;
    config.rcc.apb2_pre = APBPrescaler::DIV2;
    config
}

/// A locally administered unicast MAC address made from the chip's 96-bit unique ID, so
/// that several boards on one network get different addresses.
fn mac_address() -> [u8; 6] {
    let uid = embassy_stm32::uid::uid();
    let mut mac = [0x02, 0, 0, 0, 0, 0];
    for chunk in uid.chunks(5) {
        for (slot, byte) in mac.iter_mut().skip(1).zip(chunk) {
            *slot ^= byte;
        }
    }
    mac
}

/// Drives the TCP/IP stack: Ethernet frames in and out, DHCP, timers.
#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, EthDevice>) -> ! {
    runner.run().await
}

/// The modem: the AT engine on the UART with the MQTT and network commands, the MQTT
/// runner that owns the broker connection, and the network log, joined in this one task
/// (the URC queue and the shared MQTT state are not `Sync`, so they live in this
/// future). `AT+RST` resets the chip; a UART error restarts the engine only.
async fn modem(
    net: Stack<'static>,
    mut rx: BufferedUartRx<'static>,
    mut tx: BufferedUartTx<'static>,
    mut rng: Rng<'static, peripherals::RNG>,
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

    let urcs = UrcQueue::<URC_QUEUE_BYTES>::new();
    let shared = Shared::<PAYLOAD_BYTES, SUBSCRIPTIONS>::new(Options::new(Profile::Seed));
    let mut engine = Engine::new(at_core::Config::new(BOARD), &urcs);
    let mut commands = (
        MqttCommands::new(&shared),
        IpCommands::new(EmbassyInterface::new(net)),
    );
    let network = EmbassyNetwork::new(net, TCP_RX.take(), TCP_TX.take());
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
