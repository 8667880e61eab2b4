//! A board whose network controller did not answer at boot: the modem still runs on the
//! same types, its network [`OrAbsent::absent`]. `AT+MQTTCONN` then answers `ERROR`
//! (`0x600B`) at once, as with a cable out, and `AT+CIPSTA` answers [`NETWORK_ABSENT`],
//! so the host learns the network is missing instead of the board stopping.

use at_core::{Args, CommandInfo, CommandSet, Context, ErrorCode, Form, Outcome};

use crate::setup::TimeSource;
use crate::station::{IpCommand, IpCommands, IpInterface};
use crate::{ConnectError, Network};

/// `AT+CIPSTA` on a board without its network controller: `0x010A0003`.
pub const NETWORK_ABSENT: ErrorCode = ErrorCode::execution(0x0003);

/// A port's network (or its network commands), or nothing when the controller did not
/// answer at boot.
#[derive(Clone, Copy, Debug)]
pub struct OrAbsent<T>(Option<T>);

impl<T> OrAbsent<T> {
    /// The controller answered: `inner` serves.
    pub fn present(inner: T) -> Self {
        Self(Some(inner))
    }

    /// No controller.
    pub fn absent() -> Self {
        Self(None)
    }
}

impl<N: Network> Network for OrAbsent<N> {
    type Stream<'a>
        = N::Stream<'a>
    where
        Self: 'a;

    async fn connect(&mut self, host: &str, port: u16) -> Result<N::Stream<'_>, ConnectError> {
        match &mut self.0 {
            Some(network) => network.connect(host, port).await,
            None => Err(ConnectError::NetworkDown),
        }
    }
}

impl<I: IpInterface> CommandSet for OrAbsent<IpCommands<I>> {
    fn command(&self, index: usize) -> Option<&'static CommandInfo> {
        IpCommand::TABLE.get(index)
    }

    async fn execute<C: Context>(
        &mut self,
        index: usize,
        form: Form,
        args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        match &mut self.0 {
            Some(commands) => commands.execute(index, form, args, cx).await,
            None => Err(NETWORK_ABSENT),
        }
    }

    fn describe(&self, code: ErrorCode) -> Option<&'static str> {
        match &self.0 {
            Some(commands) => commands.describe(code),
            None => {
                (code == NETWORK_ABSENT).then_some("the network controller did not answer at boot")
            }
        }
    }
}

impl<T: TimeSource> TimeSource for OrAbsent<T> {
    async fn unix_time(&mut self, server: &str) -> Option<u64> {
        match &mut self.0 {
            Some(source) => source.unix_time(server).await,
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::station::Ipv4Settings;

    /// An interface that is never asked.
    struct Unused;

    impl IpInterface for Unused {
        fn ipv4(&self) -> Option<Ipv4Settings> {
            None
        }

        fn set_static(&mut self, _settings: Ipv4Settings) {}

        fn dhcp(&self) -> bool {
            false
        }

        fn set_dhcp(&mut self, _enabled: bool) {}
    }

    /// A stream that cannot exist.
    enum NeverStream {}

    impl embedded_io_async::ErrorType for NeverStream {
        type Error = embedded_io_async::ErrorKind;
    }

    impl embedded_io_async::Read for NeverStream {
        async fn read(&mut self, _buf: &mut [u8]) -> Result<usize, Self::Error> {
            match *self {}
        }
    }

    impl embedded_io_async::Write for NeverStream {
        async fn write(&mut self, _buf: &[u8]) -> Result<usize, Self::Error> {
            match *self {}
        }

        async fn flush(&mut self) -> Result<(), Self::Error> {
            match *self {}
        }
    }

    impl crate::SplitStream for NeverStream {
        type Reader<'s> = NeverStream;
        type Writer<'s> = NeverStream;

        fn split(&mut self) -> (NeverStream, NeverStream) {
            match *self {}
        }
    }

    /// A network that would refuse (never asked when absent).
    struct NoNetwork;

    impl Network for NoNetwork {
        type Stream<'a> = NeverStream;

        async fn connect(
            &mut self,
            _host: &str,
            _port: u16,
        ) -> Result<Self::Stream<'_>, ConnectError> {
            Err(ConnectError::Refused)
        }
    }

    #[test]
    fn an_absent_network_is_down() {
        let mut network = OrAbsent::<NoNetwork>::absent();
        let connected = embassy_futures::block_on(network.connect("10.0.0.1", 1883));
        assert!(matches!(connected, Err(ConnectError::NetworkDown)));
    }

    #[test]
    fn absent_ip_commands_keep_the_table_and_explain_their_code() {
        let commands = OrAbsent::<IpCommands<Unused>>::absent();
        assert_eq!(commands.command(0).map(|info| info.name), Some("+CIPSTA"));
        assert!(commands.describe(NETWORK_ABSENT).is_some());
        assert_eq!(NETWORK_ABSENT, ErrorCode(0x010A_0003));
    }
}
