//! The URC queue: complete unsolicited result lines waiting for a line boundary.
//!
//! A producer (e.g. the MQTT runner) pushes whole records; the engine writes each record
//! to the UART only where SPEC.md allows it, then pops it. Records are never split or
//! dropped: a producer that finds the queue full waits ([`UrcQueue::push`]), which is how
//! back-pressure reaches the network. Producer and engine must run in the same task
//! (e.g. joined with `embassy_futures::join`); the queue uses a no-op mutex.

use core::cell::RefCell;
use core::future::poll_fn;
use core::task::Poll;

use embassy_sync::blocking_mutex::Mutex;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::waitqueue::WakerRegistration;

/// Bytes of framing stored with each record.
pub const RECORD_OVERHEAD: usize = 2;

/// A record can never fit: it is larger than the whole queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RecordTooLarge;

impl core::fmt::Display for RecordTooLarge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("URC record larger than the queue")
    }
}

impl core::error::Error for RecordTooLarge {}

struct Ring<const N: usize> {
    buf: [u8; N],
    head: usize,
    len: usize,
    records: usize,
    readable: WakerRegistration,
    writable: WakerRegistration,
}

impl<const N: usize> Ring<N> {
    fn byte_at(&self, offset: usize) -> u8 {
        (self.head + offset)
            .checked_rem(N)
            .and_then(|at| self.buf.get(at))
            .copied()
            .unwrap_or(0)
    }

    /// Copies `bytes` into the ring from `offset` bytes after the head, wrapping.
    fn write_at(&mut self, offset: usize, bytes: &[u8]) {
        let Some(start) = (self.head + offset).checked_rem(N) else {
            return;
        };
        let (first, second) = bytes.split_at(bytes.len().min(N - start));
        if let Some(slots) = self.buf.get_mut(start..start + first.len()) {
            slots.copy_from_slice(first);
        }
        // Only a wrapping record has a second part: no empty copy otherwise.
        if !second.is_empty()
            && let Some(slots) = self.buf.get_mut(..second.len())
        {
            slots.copy_from_slice(second);
        }
    }

    /// Fills `out` from `offset` bytes after the head, wrapping.
    fn read_at(&self, offset: usize, out: &mut [u8]) {
        let Some(start) = (self.head + offset).checked_rem(N) else {
            return;
        };
        let split = out.len().min(N - start);
        let (first, second) = out.split_at_mut(split);
        if let Some(bytes) = self.buf.get(start..start + first.len()) {
            first.copy_from_slice(bytes);
        }
        if !second.is_empty()
            && let Some(bytes) = self.buf.get(..second.len())
        {
            second.copy_from_slice(bytes);
        }
    }

    fn front_len(&self) -> Option<usize> {
        (self.records > 0)
            .then(|| usize::from(u16::from_le_bytes([self.byte_at(0), self.byte_at(1)])))
    }
}

/// A bounded queue of URC records in `N` bytes (each record costs its length plus
/// [`RECORD_OVERHEAD`]; a record may hold at most 65,535 bytes).
pub struct UrcQueue<const N: usize> {
    ring: Mutex<NoopRawMutex, RefCell<Ring<N>>>,
}

impl<const N: usize> Default for UrcQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> UrcQueue<N> {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            ring: Mutex::new(RefCell::new(Ring {
                buf: [0; N],
                head: 0,
                len: 0,
                records: 0,
                readable: WakerRegistration::new(),
                writable: WakerRegistration::new(),
            })),
        }
    }

    /// The largest record the queue can ever hold.
    pub const fn max_record(&self) -> usize {
        let max = N.saturating_sub(RECORD_OVERHEAD);
        if max > u16::MAX as usize {
            u16::MAX as usize
        } else {
            max
        }
    }

    /// Appends one record made of `parts`, or returns `Ok(false)` if it does not fit now.
    pub fn try_push(&self, parts: &[&[u8]]) -> Result<bool, RecordTooLarge> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total > self.max_record() {
            return Err(RecordTooLarge);
        }
        self.ring.lock(|ring| {
            let mut ring = ring.borrow_mut();
            if ring.len + total + RECORD_OVERHEAD > N {
                return Ok(false);
            }
            let header = u16::try_from(total).unwrap_or(u16::MAX).to_le_bytes();
            let mut at = ring.len;
            ring.write_at(at, &header);
            at += header.len();
            for part in parts {
                ring.write_at(at, part);
                at += part.len();
            }
            ring.len = at;
            ring.records += 1;
            ring.readable.wake();
            Ok(true)
        })
    }

    /// Appends one record, waiting while the queue is full.
    pub async fn push(&self, parts: &[&[u8]]) -> Result<(), RecordTooLarge> {
        poll_fn(|cx| match self.try_push(parts) {
            Ok(true) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(e)),
            Ok(false) => {
                self.ring
                    .lock(|ring| ring.borrow_mut().writable.register(cx.waker()));
                // A pop may have happened between the attempt and the registration.
                match self.try_push(parts) {
                    Ok(false) => Poll::Pending,
                    Ok(true) => Poll::Ready(Ok(())),
                    Err(e) => Poll::Ready(Err(e)),
                }
            }
        })
        .await
    }

    /// The number of queued records.
    pub fn len(&self) -> usize {
        self.ring.lock(|ring| ring.borrow().records)
    }

    /// Whether no record is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The length of the oldest record.
    pub fn front_len(&self) -> Option<usize> {
        self.ring.lock(|ring| ring.borrow().front_len())
    }

    /// Copies bytes of the oldest record from `offset` into `out`; returns the count.
    pub fn peek(&self, offset: usize, out: &mut [u8]) -> usize {
        self.ring.lock(|ring| {
            let ring = ring.borrow();
            let Some(len) = ring.front_len() else {
                return 0;
            };
            let count = len.saturating_sub(offset).min(out.len());
            if let Some(out) = out.get_mut(..count) {
                ring.read_at(RECORD_OVERHEAD + offset, out);
            }
            count
        })
    }

    /// Removes the oldest record.
    pub fn pop(&self) {
        self.ring.lock(|ring| {
            let mut ring = ring.borrow_mut();
            if let Some(len) = ring.front_len() {
                let used = len + RECORD_OVERHEAD;
                ring.head = (ring.head + used) % N;
                ring.len -= used;
                ring.records -= 1;
                ring.writable.wake();
            }
        });
    }

    /// Whether a record of `bytes` would fit now.
    pub fn has_room(&self, bytes: usize) -> bool {
        self.ring
            .lock(|ring| ring.borrow().len.saturating_add(bytes) + RECORD_OVERHEAD <= N)
    }

    /// Waits until a record of `bytes` would fit (for ever if it never can: check
    /// [`max_record`](Self::max_record)). Cancel-safe; it reserves nothing, so it
    /// guarantees the room only to a producer that is the queue's only one.
    pub async fn wait_room(&self, bytes: usize) {
        poll_fn(|cx| {
            self.ring.lock(|ring| {
                let mut ring = ring.borrow_mut();
                if ring.len.saturating_add(bytes) + RECORD_OVERHEAD <= N {
                    Poll::Ready(())
                } else {
                    ring.writable.register(cx.waker());
                    Poll::Pending
                }
            })
        })
        .await;
    }

    /// Waits until at least one record is queued.
    pub async fn wait_ready(&self) {
        poll_fn(|cx| {
            self.ring.lock(|ring| {
                let mut ring = ring.borrow_mut();
                if ring.records > 0 {
                    Poll::Ready(())
                } else {
                    ring.readable.register(cx.waker());
                    Poll::Pending
                }
            })
        })
        .await;
    }

    /// Drops every record (e.g. on restart).
    pub fn clear(&self) {
        self.ring.lock(|ring| {
            let mut ring = ring.borrow_mut();
            ring.head = 0;
            ring.len = 0;
            ring.records = 0;
            ring.writable.wake();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pop_vec<const N: usize>(q: &UrcQueue<N>) -> Vec<u8> {
        let len = q.front_len().expect("record");
        let mut out = vec![0; len];
        // Read in small chunks to exercise offsets.
        let mut offset = 0;
        while offset < len {
            let end = (offset + 3).min(len);
            offset += q.peek(offset, &mut out[offset..end]);
        }
        q.pop();
        out
    }

    #[test]
    fn records_come_out_whole_and_in_order() {
        let q = UrcQueue::<64>::new();
        assert_eq!(q.try_push(&[b"+A:", b"1\r\n"]), Ok(true));
        assert_eq!(q.try_push(&[b"+B:2\r\n"]), Ok(true));
        assert_eq!(q.len(), 2);
        assert_eq!(pop_vec(&q), b"+A:1\r\n");
        assert_eq!(pop_vec(&q), b"+B:2\r\n");
        assert!(q.is_empty());
    }

    #[test]
    fn full_queue_refuses_without_dropping_and_wraps_around() {
        let q = UrcQueue::<16>::new();
        assert_eq!(q.try_push(&[&[1; 10]]), Ok(true));
        assert_eq!(q.try_push(&[&[2; 10]]), Ok(false));
        assert_eq!(pop_vec(&q), vec![1; 10]);
        // This record wraps past the end of the buffer.
        assert_eq!(q.try_push(&[&[3; 10]]), Ok(true));
        assert_eq!(pop_vec(&q), vec![3; 10]);
        assert_eq!(q.try_push(&[&[4; 15]]), Err(RecordTooLarge));
        assert_eq!(q.max_record(), 14);
        assert_eq!(q.try_push(&[&[5; 14]]), Ok(true));
    }

    #[test]
    fn binary_records_survive() {
        let q = UrcQueue::<600>::new();
        let data: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        assert_eq!(q.try_push(&[&data]), Ok(true));
        assert_eq!(pop_vec(&q), data);
    }

    #[test]
    fn push_waits_for_space() {
        let q = UrcQueue::<16>::new();
        assert_eq!(q.try_push(&[&[1; 12]]), Ok(true));
        let waiting = q.push(&[&[2; 12]]);
        let drain = async {
            q.wait_ready().await;
            q.pop();
        };
        let (pushed, ()) = embassy_futures::block_on(embassy_futures::join::join(waiting, drain));
        assert_eq!(pushed, Ok(()));
        assert_eq!(pop_vec(&q), vec![2; 12]);
    }
}
