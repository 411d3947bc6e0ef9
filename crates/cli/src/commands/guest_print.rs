//! The guest section of `inspect` and `prepare`, for people.

use imsprep_prepare::GuestSummary;

/// Prints what the guest is, a line per fact found.
pub fn print(summary: &GuestSummary) {
    let Some(system) = summary.system else {
        println!("guest:     no operating system found");
        return;
    };
    let name = summary.name.as_deref().unwrap_or("(unnamed)");
    let root = summary.root.as_deref().unwrap_or("?");
    println!("guest:     {name} ({system}, root {root})");
    if let Some(arch) = &summary.architecture {
        println!("  architecture: {arch}");
    }
    if let Some(boot) = &summary.boot {
        println!("  boots by:     {boot}");
    }
    if let Some(kernel) = &summary.default_kernel {
        println!("  kernel:       {kernel} (the boot loader's default)");
    }
    if let Some(version) = &summary.os_version {
        let how = if summary.os_version_exact {
            "exact"
        } else {
            "not exact"
        };
        println!("  os_version:   {version} ({how})");
    }
    if !summary.mounts.is_empty() {
        println!("  mounts:       {}", summary.mounts.join(", "));
    }
}
