//! Parallel production, in-order consumption, bounded work in flight.

use std::any::Any;
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

use crate::control::Control;
use crate::error::Error;

/// How many producing threads to run: one per core the rayon pool was
/// given (so a caller that limits the pool limits this too).
fn producers() -> usize {
    rayon::current_num_threads().max(1)
}

/// How many items may be produced ahead of the consumer: enough to keep
/// every thread busy while the consumer writes, few enough that memory
/// does not grow with the image.
pub(crate) fn default_in_flight() -> usize {
    2 * producers() + 2
}

/// Runs `produce(i)` for `i` in `0..count` on one thread per core and hands
/// the results to `consume` in ascending order on the calling thread, with
/// at most `in_flight` items produced but not yet consumed. Stops at the
/// first error (or cancellation) and returns it once running tasks have
/// ended.
///
/// Plain threads that block while they wait, not the rayon pool: rayon's
/// idle workers spin and yield before they sleep, and with the consumer
/// as a third thread on two cores that spinning took the time the
/// consumer's writes needed (thousands of context switches per second).
pub(crate) fn ordered<T, P, C>(
    count: usize,
    in_flight: usize,
    ctl: &Control<'_>,
    produce: P,
    mut consume: C,
) -> Result<(), Error>
where
    T: Send,
    P: Fn(usize) -> Result<T, Error> + Sync,
    C: FnMut(usize, T) -> Result<(), Error>,
{
    let in_flight = in_flight.max(1);
    let next_task = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // Items consumed so far: a producer may start item `i` only once
    // `i < consumed + in_flight`.
    let consumed = Mutex::new(0usize);
    let window = Condvar::new();
    let panicked: Mutex<Option<Box<dyn Any + Send>>> = Mutex::new(None);
    let halt = || {
        stop.store(true, Ordering::Relaxed);
        // Taking the lock orders the store before a waiter's next check.
        drop(consumed.lock());
        window.notify_all();
    };
    let (tx, rx) = mpsc::channel::<(usize, Result<T, Error>)>();
    let mut result = Ok(());
    std::thread::scope(|s| {
        for _ in 0..producers().min(count) {
            let tx = tx.clone();
            let (produce, next_task, stop, consumed, window) =
                (&produce, &next_task, &stop, &consumed, &window);
            let (panicked, halt, cancel) = (&panicked, &halt, ctl.cancel);
            s.spawn(move || loop {
                let i = next_task.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                {
                    let Ok(mut done) = consumed.lock() else { break };
                    while i >= *done + in_flight && !stop.load(Ordering::Relaxed) {
                        let Ok(d) = window.wait(done) else { return };
                        done = d;
                    }
                }
                if stop.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                    let _ = tx.send((i, Err(Error::Cancelled)));
                    break;
                }
                match panic::catch_unwind(AssertUnwindSafe(|| produce(i))) {
                    Ok(r) => {
                        if tx.send((i, r)).is_err() {
                            break;
                        }
                    }
                    Err(payload) => {
                        if let Ok(mut p) = panicked.lock() {
                            p.get_or_insert(payload);
                        }
                        halt();
                        break;
                    }
                }
            });
        }
        // Only the producers hold senders now: when they have all ended,
        // `recv` fails instead of waiting for ever.
        drop(tx);
        let mut next = 0usize;
        let mut pending: BTreeMap<usize, T> = BTreeMap::new();
        'run: while next < count {
            if let Err(e) = ctl.check() {
                result = Err(e);
                break;
            }
            let Ok((i, r)) = rx.recv() else { break };
            match r {
                Ok(v) => {
                    pending.insert(i, v);
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
            while let Some(v) = pending.remove(&next) {
                if let Err(e) = consume(next, v) {
                    result = Err(e);
                    break 'run;
                }
                next += 1;
                if let Ok(mut done) = consumed.lock() {
                    *done = next;
                }
                window.notify_all();
            }
        }
        halt();
    });
    if let Some(payload) = panicked.into_inner().ok().flatten() {
        panic::resume_unwind(payload);
    }
    // A task that saw the cancel flag reports Cancelled; prefer that over
    // nothing, but a real error found first wins.
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn consumes_in_order_with_bounded_flight() {
        let live = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let mut seen = Vec::new();
        ordered(
            200,
            4,
            &Control::default(),
            |i| {
                let n = live.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                Ok(i * 2)
            },
            |i, v| {
                live.fetch_sub(1, Ordering::SeqCst);
                assert_eq!(v, i * 2);
                seen.push(i);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 4);
    }

    #[test]
    fn stops_on_errors_and_cancel() {
        let r = ordered(
            100,
            3,
            &Control::default(),
            |i| {
                if i == 50 {
                    Err(Error::InvalidOption("x".into()))
                } else {
                    Ok(i)
                }
            },
            |_, _| Ok(()),
        );
        assert!(matches!(r, Err(Error::InvalidOption(_))));
        let flag = AtomicBool::new(true);
        let ctl = Control {
            progress: &|_| {},
            cancel: &flag,
        };
        let r = ordered(100, 3, &ctl, Ok, |_, _| Ok(()));
        assert!(matches!(r, Err(Error::Cancelled)));
        let r = ordered(10, 3, &Control::default(), Ok, |i, _| {
            if i == 5 {
                Err(Error::Cancelled)
            } else {
                Ok(())
            }
        });
        assert!(matches!(r, Err(Error::Cancelled)));
    }

    #[test]
    #[should_panic(expected = "producer failed")]
    fn a_panicking_producer_panics_the_caller_instead_of_hanging() {
        let _ = ordered(
            100,
            3,
            &Control::default(),
            |i| {
                if i == 7 {
                    panic!("producer failed");
                }
                Ok(i)
            },
            |_, _| Ok(()),
        );
    }

    #[test]
    fn producers_wait_for_the_consumer_when_the_window_is_full() {
        // A slow consumer: producers must not run ahead of it by more than
        // the window, however fast they are.
        let produced = AtomicUsize::new(0);
        ordered(
            50,
            2,
            &Control::default(),
            |i| {
                produced.fetch_add(1, Ordering::SeqCst);
                Ok(i)
            },
            |i, _| {
                std::thread::sleep(std::time::Duration::from_millis(1));
                assert!(produced.load(Ordering::SeqCst) <= i + 1 + 2);
                Ok(())
            },
        )
        .unwrap();
    }
}
