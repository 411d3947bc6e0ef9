//! Parallel production, in-order consumption, bounded work in flight.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::control::Control;
use crate::error::Error;

/// How many items may be produced ahead of the consumer: enough to keep
/// every thread busy while the consumer writes, few enough that memory
/// does not grow with the image.
pub(crate) fn default_in_flight() -> usize {
    2 * rayon::current_num_threads() + 2
}

/// Runs `produce(i)` for `i` in `0..count` on the rayon pool and hands the
/// results to `consume` in ascending order on the calling thread, with at
/// most `in_flight` items produced but not yet consumed. Stops at the first
/// error (or cancellation) and returns it once running tasks have ended.
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
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, Result<T, Error>)>();
    let mut result = Ok(());
    // in_place_scope keeps this thread out of the pool, so blocking on the
    // channel here does not take a worker away from producing.
    rayon::in_place_scope(|s| {
        let mut spawned = 0usize;
        let mut next = 0usize;
        let mut pending: BTreeMap<usize, T> = BTreeMap::new();
        'run: while next < count {
            if let Err(e) = ctl.check() {
                result = Err(e);
                break;
            }
            while spawned < count && spawned - next < in_flight {
                let tx = tx.clone();
                let (produce, stop, cancel) = (&produce, &stop, ctl.cancel);
                let i = spawned;
                s.spawn(move |_| {
                    let r = if stop.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                        Err(Error::Cancelled)
                    } else {
                        produce(i)
                    };
                    let _ = tx.send((i, r));
                });
                spawned += 1;
            }
            // At least one task is outstanding, and it always sends.
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
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
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
}
