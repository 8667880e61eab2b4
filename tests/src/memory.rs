//! The resident memory of a process, as the kernel reports it, for tests that check a
//! simulator's memory stays flat under load.

/// The resident set size (`VmRSS` of `/proc/<pid>/status`) of process `pid`, in KiB.
/// Fails the test when the file cannot be read or has no `VmRSS` line (the process has
/// exited, or this is not Linux).
pub fn resident_kib(pid: u32) -> u64 {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {path} (has the process exited?): {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse().ok())
        .unwrap_or_else(|| panic!("{path} has no VmRSS line in kB:\n{status}"))
}
