//! The server binary's allocator and its housekeeping: the only `unsafe` code of kinesd.
//!
//! mimalloc serves every allocation. Measured against glibc's malloc (PutRecords 100 × 1 KB,
//! alternating runs): 95–108k vs 63k records/s; glibc served each request's large buffers with
//! fresh mmaps (page faults and zeroing per request) and paid cross-thread frees of every record
//! the flusher releases.
//!
//! After a burst of writes the allocator keeps the freed request and block buffers, so RSS would
//! stay at the burst's peak although the data lives on disk: when the store falls idle it calls
//! [`release_freed_memory`] (wired through `Config::on_idle`).

#![allow(unsafe_code)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands pages the allocators no longer use back to the OS.
pub fn release_freed_memory() {
    // SAFETY: mi_collect only frees and purges pages mimalloc no longer uses (on this thread's
    // heap and abandoned ones); it has no preconditions.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    // glibc's malloc still serves C code (sled's dependencies, the TLS stack's ring).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the kernel; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
