//! Running a future on the current-thread runtime as a task of its own.

use std::future::Future;

use tokio::runtime::Runtime;
use tokio::task::LocalSet;

/// Runs `work` on `runtime` as a task of a fresh [`LocalSet`] and returns its output;
/// a panic of the task is resumed here.
///
/// Not `runtime.block_on(work)`: a modem's engine and runner (and an in-memory line's
/// host side, spawned into the same set) wake each other while they are polled, and a
/// `block_on` future woken during its own poll makes the runtime poll the I/O driver (a
/// zero-timeout `epoll_wait`) before polling it again, once per request handed over. A
/// task woken that way is a push to the set's queue.
pub fn run_as_task<T: 'static>(runtime: &Runtime, work: impl Future<Output = T> + 'static) -> T {
    let local = LocalSet::new();
    let task = local.spawn_local(work);
    match local.block_on(runtime, task) {
        Ok(output) => output,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}
