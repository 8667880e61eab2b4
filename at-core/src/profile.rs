//! The protocol profile: `seed` (the default) or byte-compatible `esp-at`.

/// Which dialect the modem speaks (SPEC.md section 8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Profile {
    /// The seed document's behaviour.
    #[default]
    Seed,
    /// Current ESP-AT's behaviour, for unchanged ESP-AT host drivers.
    EspAt,
}

impl Profile {
    /// The profile's name as used on command lines and in `AT+GMR`.
    pub const fn name(self) -> &'static str {
        match self {
            Profile::Seed => "seed",
            Profile::EspAt => "esp-at",
        }
    }

    /// Parses `seed` or `esp-at`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "seed" => Some(Profile::Seed),
            "esp-at" => Some(Profile::EspAt),
            _ => None,
        }
    }
}
