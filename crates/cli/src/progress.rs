//! Progress bars on stderr, and the Ctrl-C flag every long operation polls.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// State shared by the whole run: whether to draw, and whether the user asked
/// to stop.
pub struct Session {
    draw: bool,
    cancel: Arc<AtomicBool>,
}

impl Session {
    /// Installs the SIGINT/SIGTERM handler. The first signal asks the running
    /// operation to stop (it then removes its temporary files and the process
    /// exits 130); a second one exits at once.
    pub fn start(quiet: bool) -> Session {
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        // Failing to install the handler only costs the clean-up on Ctrl-C.
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
        Session {
            draw: !quiet && std::io::stderr().is_terminal(),
            cancel,
        }
    }

    /// The flag the libraries poll.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    /// Whether the user asked to stop.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// A byte-counting bar for work of `total` bytes; hidden when stderr is
    /// not a terminal or `--quiet` was given.
    pub fn bar(&self, message: &str, total: u64) -> Bar {
        let bar = if self.draw {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(message.to_string());
        Bar { bar }
    }
}

/// One progress bar; cleared when dropped.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// Moves the bar to `done` bytes; safe to call from any thread.
    pub fn set(&self, done: u64) {
        self.bar.set_position(done);
    }

    /// Adds `delta` bytes; for libraries that report increments.
    #[allow(dead_code)]
    pub fn add(&self, delta: u64) {
        self.bar.inc(delta);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// The pipeline's progress, cancellation and warnings go through the
/// session: bars on stderr, the Ctrl-C flag, warnings as stderr lines.
impl imsprep_prepare::Reporter for Session {
    fn pass<'a>(&'a self, what: &str, total: u64) -> Box<dyn Fn(u64) + Sync + 'a> {
        let bar = self.bar(what, total);
        Box::new(move |done| bar.set(done))
    }

    fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    fn warn(&self, message: &str) {
        eprintln!("imsprep: warning: {message}");
    }
}
