//! Helpers every board port needs around its network: a MAC address from the chip's
//! unique ID, and a log of the network coming and going.

/// A locally administered unicast MAC address folded from a chip's unique ID, so that
/// several boards on one network get different addresses.
pub fn mac_from_unique_id(uid: &[u8]) -> [u8; 6] {
    let mut mac = [0x02, 0, 0, 0, 0, 0];
    for chunk in uid.chunks(5) {
        for (slot, byte) in mac.iter_mut().skip(1).zip(chunk) {
            *slot ^= byte;
        }
    }
    mac
}

/// Logs each change of an embassy-net stack's IPv4 configuration, for ever.
#[cfg(feature = "embassy-net")]
pub async fn log_network(stack: embassy_net::Stack<'_>) -> core::convert::Infallible {
    loop {
        stack.wait_config_up().await;
        if let Some(config) = stack.config_v4() {
            info!(
                "network up: {:?}",
                crate::fmt::Debug2Format(&config.address)
            );
        }
        stack.wait_config_down().await;
        info!("network down");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_is_local_unicast_and_folds_the_whole_id() {
        let a = mac_from_unique_id(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let b = mac_from_unique_id(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]);
        assert_eq!(a[0], 0x02);
        assert_ne!(a, b);
    }
}
