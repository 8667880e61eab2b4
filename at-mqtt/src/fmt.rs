//! Logging that goes to `defmt` (feature `defmt`), to `log` (feature `log`), or nowhere.
//!
//! The macros take `{}` and `{:?}` placeholders only, so each message prints under both
//! back ends; [`Debug2Format`] wraps a `Debug` value for `defmt`.
#![allow(
    unused_macros,
    unused_imports,
    reason = "each build uses a different part"
)]

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("the `defmt` and `log` features are exclusive");

macro_rules! log_with {
    ($level:ident, $($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        ::defmt::$level!($($arg)*);
        #[cfg(feature = "log")]
        ::log::$level!($($arg)*);
        #[cfg(not(any(feature = "defmt", feature = "log")))]
        {
            let _ = ::core::format_args!($($arg)*);
        }
    }};
}

macro_rules! trace {
    ($($arg:tt)*) => { log_with!(trace, $($arg)*) };
}

macro_rules! debug {
    ($($arg:tt)*) => { log_with!(debug, $($arg)*) };
}

macro_rules! info {
    ($($arg:tt)*) => { log_with!(info, $($arg)*) };
}

macro_rules! warn {
    ($($arg:tt)*) => { log_with!(warn, $($arg)*) };
}

macro_rules! error {
    ($($arg:tt)*) => { log_with!(error, $($arg)*) };
}

/// Prints a `Debug` value under `defmt` (and as itself under `log`).
#[cfg(feature = "defmt")]
pub(crate) use defmt::Debug2Format;

/// Prints a `Debug` value under `defmt` (and as itself under `log`).
#[cfg(not(feature = "defmt"))]
pub(crate) struct Debug2Format<'a, T: core::fmt::Debug + ?Sized>(pub(crate) &'a T);

#[cfg(not(feature = "defmt"))]
impl<T: core::fmt::Debug + ?Sized> core::fmt::Debug for Debug2Format<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}
