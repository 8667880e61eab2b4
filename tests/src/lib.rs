//! End-to-end test harness: the `at-host` simulator driven over its serial line exactly
//! as a host MCU drives a board.
