//! Print the probe report of each file given on the command line as JSON,
//! with the time the probe took on stderr.

use std::path::Path;
use std::time::Instant;

fn main() {
    for arg in std::env::args().skip(1) {
        let start = Instant::now();
        let result = imsprep_probe::inspect(Path::new(&arg));
        let took = start.elapsed();
        match result {
            Ok(report) => match serde_json::to_string_pretty(&report) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("{arg}: {e}"),
            },
            Err(e) => eprintln!("{arg}: {e}"),
        }
        eprintln!("{arg}: probed in {:.3} ms", took.as_secs_f64() * 1000.0);
    }
}
