//! The footprint floor: the at-core engine alone on the Nucleo-F429ZI's AT UART (USART3
//! on the ST-LINK virtual COM port, 115200 8N1) with only its basic commands (`AT`,
//! `ATE0`/`ATE1`, `AT+GMR`, `AT+CMD?`, `AT+SYSLOG`, `AT+RST`); no network, no MQTT.
//! `scripts/size-report.py` measures it beside the complete modem.

#![no_std]
#![no_main]

use at_core::{Config, Engine, Stop, UrcQueue};
use cortex_m::peripheral::SCB;
use embassy_executor::Spawner;
use embassy_stm32::usart::BufferedUart;
use embassy_stm32::{bind_interrupts, peripherals, usart};
#[cfg(not(feature = "defmt"))]
use panic_reset as _;
use static_cell::ConstStaticCell;
#[cfg(feature = "defmt")]
use {defmt_rtt as _, panic_probe as _};

bind_interrupts!(struct Irqs {
    USART3 => usart::BufferedInterruptHandler<peripherals::USART3>;
});

#[embassy_executor::main]
async fn main(_spawner: Spawner) -> ! {
    let p = embassy_stm32::init(embassy_stm32::Config::default());
    static UART_TX: ConstStaticCell<[u8; 512]> = ConstStaticCell::new([0; 512]);
    static UART_RX: ConstStaticCell<[u8; 1024]> = ConstStaticCell::new([0; 1024]);
    let mut uart_config = usart::Config::default();
    uart_config.baudrate = 115_200;
    let (uart_tx, uart_rx) = (UART_TX.take(), UART_RX.take());
    let uart = BufferedUart::new(p.USART3, p.PD9, p.PD8, uart_tx, uart_rx, Irqs, uart_config)
        .expect("USART3 configuration");
    let (mut tx, mut rx) = uart.split();

    // No URC producer: the smallest queue the engine accepts.
    static URCS: ConstStaticCell<UrcQueue<64>> = ConstStaticCell::new(UrcQueue::new());
    let urcs = URCS.take();
    let mut engine = Engine::new(Config::new("nucleo-f429zi"), urcs);
    loop {
        if let Ok(Stop::Restart) = engine.run(&mut rx, &mut tx, &mut ()).await {
            SCB::sys_reset();
        }
    }
}
