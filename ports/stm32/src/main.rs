//! AT-command MQTT modem firmware for the ST Nucleo-F429ZI (STM32F429ZI).
//!
//! Wiring, all on the board as shipped: the AT UART is USART3 on PD8 (TX) and PD9 (RX),
//! which the on-board ST-LINK/V2-1 exposes as its USB virtual COM port (115200 8N1, no
//! flow control). The network is the on-chip Ethernet MAC talking RMII to the board's
//! LAN8742A PHY (REF_CLK PA1, MDIO PA2, MDC PC1, CRS_DV PA7, RXD0 PC4, RXD1 PC5, TX_EN
//! PG11, TXD0 PG13, TXD1 PB13) on the RJ45 jack; the address comes from DHCP. The system
//! clock is 168 MHz from the ST-LINK's 8 MHz MCO (HSE bypass), with the 48 MHz PLL Q
//! output feeding the hardware RNG that seeds the TCP/IP stack and the TLS handshakes.
//! With the `defmt` feature, logs go out over RTT; without it a panic resets the chip.

#![no_std]
#![no_main]

use at_mqtt::budget::TCP_SOCKET_BYTES;
use at_mqtt::setup::{EmbassySntp, SetupCommands};
use at_mqtt::station::{EmbassyInterface, IpCommands, log_network, mac_from_unique_id};
use at_mqtt::{EmbassyNetwork, Modem, ModemResources};
use cortex_m::peripheral::SCB;
use embassy_executor::Spawner;
use embassy_net::{DhcpConfig, StackResources};
use embassy_stm32::eth::{Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::peripherals::{ETH, ETH_SMA};
use embassy_stm32::rng::Rng;
use embassy_stm32::time::Hertz;
use embassy_stm32::usart::BufferedUart;
use embassy_stm32::{Config, bind_interrupts, eth, peripherals, rng, usart};
#[cfg(not(feature = "defmt"))]
use panic_reset as _;
use static_cell::{ConstStaticCell, StaticCell};
#[cfg(feature = "defmt")]
use {defmt_rtt as _, panic_probe as _};

/// The board name `AT+GMR` reports.
const BOARD: &str = "nucleo-f429zi";
/// Sockets the network stack can hold at once: the DHCP client, DNS, TCP for MQTT, and
/// the UDP socket of an SNTP exchange.
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
    #[cfg(feature = "defmt")]
    defmt::info!("{} starting", BOARD);

    // The AT UART: USART3 on the ST-LINK virtual COM port, 115200 8N1.
    static UART_TX: ConstStaticCell<[u8; 512]> = ConstStaticCell::new([0; 512]);
    static UART_RX: ConstStaticCell<[u8; 1024]> = ConstStaticCell::new([0; 1024]);
    let mut uart_config = usart::Config::default();
    uart_config.baudrate = 115_200;
    let (uart_tx, uart_rx) = (UART_TX.take(), UART_RX.take());
    let uart = BufferedUart::new(p.USART3, p.PD9, p.PD8, uart_tx, uart_rx, Irqs, uart_config)
        .expect("USART3 configuration");
    let (mut tx, mut rx) = uart.split();

    // The network: Ethernet MAC + LAN8742A, a locally administered MAC address derived
    // from the chip's unique ID, DHCP. The RNG also supplies the TLS handshakes.
    let mut rng = Rng::new(p.RNG, Irqs);
    let mut seed = [0; 8];
    rng.fill_bytes(&mut seed);
    static PACKETS: StaticCell<PacketQueue<2, 2>> = StaticCell::new();
    let mac = mac_from_unique_id(&embassy_stm32::uid::uid());
    // RMII: REF_CLK, CRS_DV, RXD0, RXD1, TXD0, TXD1, TX_EN; then MDIO and MDC.
    #[rustfmt::skip]
    let device: EthDevice = Ethernet::new(
        PACKETS.init(PacketQueue::new()), p.ETH, Irqs,
        p.PA1, p.PA7, p.PC4, p.PC5, p.PG13, p.PB13, p.PG11,
        mac, p.ETH_SMA, p.PA2, p.PC1,
    );
    static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
    let (net, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(DhcpConfig::default()),
        RESOURCES.init(StackResources::new()),
        u64::from_le_bytes(seed),
    );
    spawner.spawn(net_task(runner).expect("network task already running"));

    // The modem in this task, scheme 2 with the hardware RNG; `AT+RST` resets the chip.
    static MODEM: ConstStaticCell<ModemResources> = ConstStaticCell::new(ModemResources::new());
    static TCP: ConstStaticCell<[[u8; TCP_SOCKET_BYTES]; 2]> =
        ConstStaticCell::new([[0; TCP_SOCKET_BYTES]; 2]);
    let [tcp_rx, tcp_tx] = TCP.take();
    let network = EmbassyNetwork::new(net, tcp_rx, tcp_tx);
    let extra = (
        IpCommands::new(EmbassyInterface::new(net)),
        SetupCommands::new(EmbassySntp::new(net), uart_config.baudrate),
    );
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
    // `AT+UART_CUR`: USART3 has one baud-rate register for both directions.
    let set_baud_rate = |_: &mut _, tx: &mut usart::BufferedUartTx<'_>, baud| {
        let refused = tx.set_baudrate(baud).is_err();
        #[cfg(feature = "defmt")]
        if refused {
            defmt::warn!("USART3 cannot run at {} baud", baud);
        }
        #[cfg(not(feature = "defmt"))]
        let _ = refused;
    };
    match modem
        .run(&mut rx, &mut tx, reset, set_baud_rate, log_network(net))
        .await {}
}

/// 168 MHz from the ST-LINK's 8 MHz MCO; PLL Q gives the 48 MHz the RNG needs.
fn clocks() -> Config {
    use embassy_stm32::rcc::{
        AHBPrescaler, APBPrescaler, Hse, HseMode, Pll, PllMul, PllPDiv, PllPreDiv, PllQDiv,
        PllSource, Sysclk,
    };
    let mut config = Config::default();
    let (freq, mode) = (Hertz(8_000_000), HseMode::Bypass);
    config.rcc.hse = Some(Hse { freq, mode });
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

/// Drives the TCP/IP stack: Ethernet frames in and out, DHCP, timers.
#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, EthDevice>) -> ! {
    runner.run().await
}
