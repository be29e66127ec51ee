//! Link-time layout of the `kinesd` binary, for a smaller resident set.
//!
//! 1. The functions listed in `scripts/layout/kinesd.order` (what start-up, idling and the
//!    common calls run; `scripts/layout.sh` regenerates it) are placed side by side. The kernel
//!    maps code in 64 KiB windows around each page touched, so the same code spread over the
//!    whole binary made 5.7 MB of it resident at idle, and about 2 MB packed.
//! 2. Relative relocations are packed (`DT_RELR`): the loader then reads a few KiB instead of
//!    a 460 KiB table at every start.
//!
//! Both only where they are known to work: the linker must be rust-lld (the default for
//! x86_64 Linux since Rust 1.90; an overridden linker may not know the options), and packed
//! relocations need glibc 2.36 where the binary runs, checked here on the building machine.
//! Anything else links as before; a stale list only costs memory, never correctness.

use std::process::Command;

const ORDER: &str = "scripts/layout/kinesd.order";

fn main() {
    println!("cargo:rerun-if-changed={ORDER}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER");
    if !default_rust_lld() {
        return;
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let order = std::path::Path::new(&dir).join(ORDER);
    if order.is_file() {
        println!(
            "cargo:rustc-link-arg-bin=kinesd=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        // Names the list has but this build lacks (a stale list, a debug build) are expected.
        println!("cargo:rustc-link-arg-bin=kinesd=-Wl,--no-warn-symbol-ordering");
    }
    if glibc_at_least(2, 36) {
        println!("cargo:rustc-link-arg-bin=kinesd=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the binary is linked by rustc's default rust-lld for x86_64 GNU/Linux.
fn default_rust_lld() -> bool {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target != "x86_64-unknown-linux-gnu" {
        return false;
    }
    if std::env::var_os("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_some() {
        return false;
    }
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if ["linker", "link-self-contained", "fuse-ld", "link-arg"]
        .iter()
        .any(|f| flags.contains(f))
    {
        return false;
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    rustc_minor(&rustc).is_some_and(|minor| minor >= 90)
}

/// The minor version of `rustc -V` ("rustc 1.95.0 (…)" → 95).
fn rustc_minor(rustc: &str) -> Option<u32> {
    let out = Command::new(rustc).arg("-V").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split('.');
    (parts.next()? == "1").then_some(())?;
    parts.next()?.parse().ok()
}

/// Whether this machine's glibc is at least `major.minor` (`getconf GNU_LIBC_VERSION`).
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(version) = text.split_whitespace().nth(1) else {
        return false;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    found >= (major, minor)
}
